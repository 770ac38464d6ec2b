/// The kind of a JSON value.
public enum JSONKind: Sendable, Equatable {
    case string, number, boolean, null, object, array
}

/// One member of a JSON object, as offsets into the scanned bytes.
public struct JSONMember: Sendable, Equatable {
    /// The key's raw content, inside its quotes.
    public var key: Range<Int>
    public var keyHasEscapes: Bool
    /// The value's bytes; for a string, inside its quotes.
    public var value: Range<Int>
    public var kind: JSONKind
    /// A string value holds backslash escapes.
    public var valueHasEscapes: Bool
}

/// Why a line is not a JSON object.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "invalid JSON at byte \(offset + 1): \(reason)" }
}

/// Checks that a line is one JSON object and lists its top-level members without building
/// any value; nested objects and arrays are validated and kept as raw spans.
public struct JSONObjectScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    public static func members(of bytes: UnsafeBufferPointer<UInt8>, into members: inout [JSONMember]) throws(JSONSyntaxError) {
        members.removeAll(keepingCapacity: true)
        var scanner = JSONObjectScanner(bytes)
        scanner.skipSpace()
        guard scanner.peek == UInt8(ascii: "{") else { throw scanner.error("expected an object") }
        scanner.i += 1
        scanner.skipSpace()
        if scanner.peek == UInt8(ascii: "}") {
            scanner.i += 1
        } else {
            while true {
                scanner.skipSpace()
                guard scanner.peek == UInt8(ascii: "\"") else { throw scanner.error("expected a key") }
                let (key, keyEscaped) = try scanner.string()
                scanner.skipSpace()
                guard scanner.peek == UInt8(ascii: ":") else { throw scanner.error("expected ':'") }
                scanner.i += 1
                scanner.skipSpace()
                let (value, kind, valueEscaped) = try scanner.value(depth: 1)
                members.append(JSONMember(key: key, keyHasEscapes: keyEscaped, value: value, kind: kind, valueHasEscapes: valueEscaped))
                scanner.skipSpace()
                if scanner.peek == UInt8(ascii: ",") { scanner.i += 1; continue }
                guard scanner.peek == UInt8(ascii: "}") else { throw scanner.error("expected ',' or '}'") }
                scanner.i += 1
                break
            }
        }
        scanner.skipSpace()
        guard scanner.i == bytes.count else { throw scanner.error("text after the object") }
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private func error(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: i, reason: reason) }

    private mutating func skipSpace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { i += 1 }
    }

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> (Range<Int>, JSONKind, Bool) {
        guard depth <= 64 else { throw error("nested too deeply") }
        let start = i
        switch peek {
        case UInt8(ascii: "\""):
            let (content, escaped) = try string()
            return (content, .string, escaped)
        case UInt8(ascii: "{"):
            try container(close: UInt8(ascii: "}"), depth: depth, keyed: true)
            return (start..<i, .object, false)
        case UInt8(ascii: "["):
            try container(close: UInt8(ascii: "]"), depth: depth, keyed: false)
            return (start..<i, .array, false)
        case UInt8(ascii: "t"):
            try literal("true")
            return (start..<i, .boolean, false)
        case UInt8(ascii: "f"):
            try literal("false")
            return (start..<i, .boolean, false)
        case UInt8(ascii: "n"):
            try literal("null")
            return (start..<i, .null, false)
        default:
            try number()
            return (start..<i, .number, false)
        }
    }

    private mutating func container(close: UInt8, depth: Int, keyed: Bool) throws(JSONSyntaxError) {
        i += 1
        skipSpace()
        if peek == close { i += 1; return }
        while true {
            skipSpace()
            if keyed {
                guard peek == UInt8(ascii: "\"") else { throw error("expected a key") }
                _ = try string()
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw error("expected ':'") }
                i += 1
                skipSpace()
            }
            _ = try value(depth: depth + 1)
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            guard peek == close else { throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
            i += 1
            return
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard i + count <= bytes.count else { throw error("unexpected end") }
        for k in 0..<count where bytes[i + k] != word.utf8Start[k] { throw error("invalid literal") }
        i += count
    }

    /// The content range of a string starting at the opening quote, and whether it has escapes.
    private mutating func string() throws(JSONSyntaxError) -> (Range<Int>, Bool) {
        i += 1
        let start = i
        var escaped = false
        while i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\"") {
                defer { i += 1 }
                return (start..<i, escaped)
            }
            if byte < 0x20 { throw error("control character in a string") }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                i += 1
                guard let next = peek else { break }
                switch next {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    guard i + 4 < bytes.count, (1...4).allSatisfy({ Self.hexValue(bytes[i + $0]) != nil }) else {
                        throw error("invalid \\u escape")
                    }
                    i += 5
                default:
                    throw error("invalid escape")
                }
                continue
            }
            i += 1
        }
        throw error("unterminated string")
    }

    private mutating func number() throws(JSONSyntaxError) {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        guard let first = peek, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw error("invalid value") }
        if first == UInt8(ascii: "0") { i += 1 } else { skipDigits() }
        if peek == UInt8(ascii: ".") {
            i += 1
            guard skipDigits() > 0 else { throw error("digits expected after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard skipDigits() > 0 else { throw error("digits expected in the exponent") }
        }
        if i == start { throw error("invalid value") }
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = i
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { i += 1 }
        return i - start
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The UTF-8 bytes a JSON string's content stands for (the content already validated).
    public static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            (0..<4).reduce(UInt32(0)) { $0 << 4 | (at + $1 < content.count ? hexValue(content[at + $1]) ?? 0 : 0) }
        }
        while i < content.count {
            let byte = content[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < content.count else {
                out.append(byte)
                i += 1
                continue
            }
            let kind = content[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                // A surrogate pair spells one scalar; a lone surrogate becomes U+FFFD.
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= content.count,
                   content[i] == UInt8(ascii: "\\"), content[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar) ?? "\u{FFFD}").utf8))
            default: out.append(kind)
            }
        }
        return out
    }
}
