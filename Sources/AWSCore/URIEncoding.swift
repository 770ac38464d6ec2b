/// Percent-encoding exactly as SigV4 and the AWS wire protocols define it: RFC 3986's
/// unreserved characters stay, every other UTF-8 byte becomes `%XX` in upper case.
public enum URIEncoding {
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Encodes `text`; with `keepSlash` a `/` stays as the path separator (S3 keys, canonical URIs).
    public static func encode(_ text: some StringProtocol, keepSlash: Bool = false) -> String {
        let utf8 = text.utf8
        let keeps: (UInt8) -> Bool = { isUnreserved($0) || (keepSlash && $0 == UInt8(ascii: "/")) }
        if utf8.allSatisfy(keeps) { return String(text) }
        let hex: StaticString = "0123456789ABCDEF"
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count * 3)
        hex.withUTF8Buffer { hex in
            for byte in utf8 {
                if keeps(byte) {
                    out.append(byte)
                } else {
                    out.append(UInt8(ascii: "%"))
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0f)])
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reverses `%XX` escapes; a malformed escape stays as written. `+` is not a space in AWS query strings.
    public static func decode(_ text: some StringProtocol) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "%"), i + 2 < utf8.count, let high = hexValue(utf8[i + 1]), let low = hexValue(utf8[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// RFC 3986 dot-segment removal plus collapsing empty segments, as SigV4 normalises every
    /// service's path except S3's. A trailing slash survives.
    public static func normalizePath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        if !path.contains("//") && !path.contains("/.") { return path }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
            } else {
                output.append(segment)
            }
        }
        let trailing = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return "/" + output.joined(separator: "/") + trailing
    }

    /// `name=value&…` with both sides encoded, in the given order: query strings and Query-protocol bodies.
    public static func formEncode(_ pairs: [(String, String)]) -> String {
        var out = ""
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out += "&" }
            out += encode(pair.0)
            out += "="
            out += encode(pair.1)
        }
        return out
    }
}
