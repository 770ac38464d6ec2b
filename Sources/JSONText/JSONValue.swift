/// A parsed JSON document, for configuration read when a function starts: `JSONDecoder`'s generic
/// machinery costs a bootstrap about 2 M instructions of first-time Swift runtime metadata and
/// conformance lookups there (half of s3-submitter's init), where walking this tree costs none.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// As written: the reader decides what range it accepts.
    case number(String)
    case string(String)
    case array([JSONValue])
    /// Members in document order; a later duplicate key wins in `subscript`, as in `JSONDecoder`.
    case object([Member])

    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSONValue

        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value of `key` when this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.key == key }?.value
    }

    /// What the value is, for error messages ("expected a string, got a number").
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Where and why a document is not JSON (RFC 8259).
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bytes from the start of the document.
    public var offset: Int
    public var reason: String

    public var description: String { "not JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Nesting deeper than this is refused rather than risking the stack on hostile input.
    public static let maximumDepth = 256

    /// Parses one JSON text (RFC 8259: any value, surrounded by optional whitespace), strictly:
    /// no trailing commas, comments, leading zeros or unpaired surrogates.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes: Array(bytes))
        self = try parser.document()
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        let value = try self.value(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw fail("unexpected \(describe(index)) after the value") }
        return value
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? index, reason: reason)
    }

    func describe(_ offset: Int) -> String {
        guard offset < bytes.count else { return "end of document" }
        let byte = bytes[offset]
        return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func expect(_ literal: String, _ value: JSONValue) throws(JSONSyntaxError) -> JSONValue {
        let start = index
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else { throw fail("expected \(literal)", at: start) }
            index += 1
        }
        return value
    }

    mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth < JSONValue.maximumDepth else { throw fail("nested deeper than \(JSONValue.maximumDepth)") }
        skipWhitespace()
        guard index < bytes.count else { throw fail("expected a value, got the end of document") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try expect("true", .bool(true))
        case UInt8(ascii: "f"): return try expect("false", .bool(false))
        case UInt8(ascii: "n"): return try expect("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("expected a value, got \(describe(index))")
        }
    }

    mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var members: [JSONValue.Member] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member's name in quotes, got \(describe(index))") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after \"\(key)\", got \(describe(index))") }
            index += 1
            members.append(JSONValue.Member(key, try value(depth: depth + 1)))
            skipWhitespace()
            guard index < bytes.count else { throw fail("expected ',' or '}', got the end of document") }
            index += 1
            switch bytes[index - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default: throw fail("expected ',' or '}', got \(describe(index - 1))", at: index - 1)
            }
        }
    }

    mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw fail("expected ',' or ']', got the end of document") }
            index += 1
            switch bytes[index - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(elements)
            default: throw fail("expected ',' or ']', got \(describe(index - 1))", at: index - 1)
            }
        }
    }

    mutating func number() throws(JSONSyntaxError) -> String {
        let start = index
        func digits(_ parser: inout JSONParser) -> Int {
            let first = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) { parser.index += 1 }
            return parser.index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        guard digits(&self) > 0 else { throw fail("expected a digit, got \(describe(index))") }
        if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 { throw fail("a number has a leading zero", at: integerStart) }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw fail("expected a digit after '.', got \(describe(index))") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw fail("expected an exponent's digit, got \(describe(index))") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func string() throws(JSONSyntaxError) -> String {
        let open = index
        index += 1
        var text: [UInt8] = []
        while true {
            guard index < bytes.count else { throw fail("a string opened at byte \(open) is not closed") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                // ASCII is valid as it is, and skips the generic validator (a thousand instructions a
                // string in a function's init). Otherwise validated, not repaired: broken UTF-8 is refused.
                if !text.contains(where: { $0 >= 0x80 }) { return String(decoding: text, as: UTF8.self) }
                guard let valid = String(validating: text, as: UTF8.self) else { throw fail("the string opened at byte \(open) is not valid UTF-8", at: open) }
                return valid
            case UInt8(ascii: "\\"):
                try escape(into: &text)
            case ..<0x20:
                throw fail("a control character (0x\(String(byte, radix: 16))) inside a string must be escaped", at: index - 1)
            default:
                text.append(byte)
            }
        }
    }

    mutating func escape(into text: inout [UInt8]) throws(JSONSyntaxError) {
        guard index < bytes.count else { throw fail("a string ends inside an escape") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hexQuad()
            if (0xD800..<0xDC00).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("a high surrogate \\u\(String(scalar, radix: 16)) without its low surrogate")
                }
                index += 2
                let low = try hexQuad()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("\\u\(String(low, radix: 16)) is not a low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("\\u\(String(scalar, radix: 16)) is an unpaired surrogate") }
            text.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw fail("\\\(Character(Unicode.Scalar(byte))) is not a JSON escape", at: index - 1)
        }
    }

    mutating func hexQuad() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
            bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
        else { throw fail("\\u must be followed by four hex digits") }
        index += 4
        return value
    }
}
