import RecordFormats

/// Writing JSON straight into byte buffers: one validated record at a time, no intermediate values.
enum JSONOutput {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// The most `appendString` writes for `count` input bytes: quotes, and `\u00XX` for each byte.
    static func stringBound(_ count: Int) -> Int { 6 * count + 2 }

    /// Appends `bytes` as a JSON string literal. Returns false (appending nothing) when they are
    /// not valid UTF-8.
    static func appendString(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter) -> Bool {
        let mark = out.count
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let count = bytes.count
        while i < count {
            // Plain printable ASCII, eight bytes at a time.
            while i + 8 <= count {
                let word = ByteSearch.word(bytes, at: i)
                if ByteSearch.mayHaveControlOrNonASCII(word, below: 0x20) || ByteSearch.mayContain(word, UInt8(ascii: "\"")) || ByteSearch.mayContain(word, UInt8(ascii: "\\")) { break }
                i += 8
            }
            guard i < count else { break }
            let byte = bytes[i]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte < 0x80 {
                i += 1
                continue
            }
            if byte >= 0x80 {
                guard let length = UTF8Check.sequenceLength(bytes, at: i) else {
                    out.truncate(to: mark)
                    return false
                }
                i += length
                continue
            }
            out.append(UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append("u00")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
            i += 1
            runStart = i
        }
        out.append(UnsafeBufferPointer(rebasing: bytes[runStart..<count]))
        out.append(UInt8(ascii: "\""))
        return true
    }

    /// `text` as a JSON string literal (a `String` is always valid UTF-8).
    static func quoted(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { utf8 in ByteWriter.bytes(atMost: stringBound(utf8.count)) { _ = appendString(utf8, to: &$0) }.0 }
    }
}

/// UTF-8 well-formedness (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
enum UTF8Check {
    /// The length of the valid sequence starting at `i`, or nil.
    static func sequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let lead = bytes[i]
        let count = bytes.count
        func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            i + k < count && range.contains(bytes[i + k])
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : nil
        default:
            return nil
        }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 {
                i += 1
            } else if let length = sequenceLength(bytes, at: i) {
                i += length
            } else {
                return false
            }
        }
        return true
    }
}
