import Foundation
import JSONText
import Testing

@Suite struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: Array(#" {"a": [1, -2.5e3, 0], "b": {"c": null, "d": true, "e": false}, "f": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude80"} "#.utf8))
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .number("0")]))
        #expect(value["b"]?["c"] == .null && value["b"]?["d"] == .bool(true) && value["b"]?["e"] == .bool(false))
        #expect(value["f"] == .string("x\"\\/\u{08}\u{0C}\n\r\té🚀"))
        #expect(value["missing"] == nil && value["a"]?["a"] == nil)
    }

    @Test func aLaterDuplicateKeyWinsAsInJSONDecoder() throws {
        #expect(try JSONValue(parsing: Array(#"{"k": 1, "k": 2}"#.utf8))["k"] == .number("2"))
    }

    @Test("refuses what RFC 8259 refuses, saying where", arguments: [
        ("", 0, "expected a value"), ("{\"a\": 1,}", 8, "expected a member's name"), ("[1,]", 3, "expected a value"),
        ("01", 0, "leading zero"), ("1.", 2, "after '.'"), ("1e", 2, "exponent"), ("-", 1, "expected a digit"),
        ("\"abc", 4, "not closed"), ("\"a\u{01}\"", 2, "control character"), ("\"\\x\"", 2, "not a JSON escape"),
        ("\"\\ud83d\"", 7, "without its low surrogate"), ("\"\\udc00\"", 7, "unpaired surrogate"), ("\"\\u12g4\"", 3, "four hex digits"),
        ("tru", 0, "expected true"), ("{\"a\" 1}", 5, "expected ':'"), ("[1 2]", 3, "expected ',' or ']'"), ("1 2", 2, "after the value"),
        ("// no comments\n1", 0, "expected a value"), ("{'a': 1}", 1, "in quotes"),
    ])
    func refuses(_ text: String, _ offset: Int, _ reason: String) {
        #expect {
            _ = try JSONValue(parsing: Array(text.utf8))
        } throws: { error in
            guard let syntax = error as? JSONSyntaxError else { return false }
            return syntax.offset == offset && syntax.reason.contains(reason)
        }
    }

    @Test func refusesInvalidUTF8InAString() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func refusesNestingPastTheLimitInsteadOfOverflowingTheStack() {
        let deep = String(repeating: "[", count: JSONValue.maximumDepth + 1) + String(repeating: "]", count: JSONValue.maximumDepth + 1)
        #expect(throws: JSONSyntaxError.self) { try JSONValue(parsing: Array(deep.utf8)) }
        let allowed = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        #expect((try? JSONValue(parsing: Array(allowed.utf8))) != nil)
    }

    /// Foundation's parser is the reference: whatever it reads, this reads the same.
    @Test("agrees with JSONSerialization", arguments: [
        #"{"feeds": [{"name": "orders", "n": 100, "f": 1.5, "t": true, "z": null, "s": "\u00e9\t"}]}"#, "[]", "{}", "\"\"", "-0", "3.14e-10", "[[[]], {}]",
    ])
    func agreesWithFoundation(_ text: String) throws {
        let ours = try JSONValue(parsing: Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        #expect(Self.same(ours, theirs), "\(ours) vs \(theirs)")
    }

    static func same(_ value: JSONValue, _ object: Any) -> Bool {
        switch value {
        case .null: return object is NSNull
        case .bool(let flag): return (object as? NSNumber)?.boolValue == flag
        case .number(let text): return (object as? NSNumber)?.doubleValue == Double(text)
        case .string(let text): return object as? String == text
        case .array(let elements):
            guard let others = object as? [Any], others.count == elements.count else { return false }
            return zip(elements, others).allSatisfy { same($0, $1) }
        case .object(let members):
            guard let others = object as? [String: Any], others.count == members.count else { return false }
            return members.allSatisfy { member in others[member.key].map { same(member.value, $0) } ?? false }
        }
    }
}
