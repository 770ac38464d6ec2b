import Foundation
import JSONText
import Testing

@Suite struct JSONTextTests {
    @Test("every string survives a round trip through a JSON parser, control characters and all", arguments: [
        "", "plain", "quote \" and backslash \\", "lines\nand\r\ttabs", "bell \u{07} and escape \u{1B} and NUL \u{00}",
        "ünïcödé, 日本語, emoji 🚀", "\u{7F} DEL is not a control character JSON escapes",
    ])
    func roundTrip(_ text: String) throws {
        let literal = JSONText.quote(text)
        let parsed = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: [.fragmentsAllowed]) as? String
        #expect(parsed == text, "\(literal)")
        #expect(!literal.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 }, "a raw control character in \(literal)")
    }

    @Test func escapesAsJSONDoes() {
        #expect(JSONText.quote("a\"b\\c\u{01}") == #""a\"b\\c\u0001""#)
    }
}
