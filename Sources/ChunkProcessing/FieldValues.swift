/// Reading typed values from CSV text and writing them as JSON: integers and numbers are
/// checked and written in JSON's own spelling (`+7` → `7`, `007` → `7`, `.5` → `0.5`).
enum FieldValues {
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// `[+-]?[0-9]+`.
    static func appendInteger(_ text: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter) -> Bool {
        var i = 0
        let negative = sign(text, &i)
        let digits = i
        while i < text.count, isDigit(text[i]) { i += 1 }
        guard i == text.count, i > digits else { return false }
        if negative { out.append(UInt8(ascii: "-")) }
        appendDigits(text, digits..<i, to: &out)
        return true
    }

    /// `[+-]?` digits, an optional fraction, an optional exponent, with at least one digit before
    /// or after the point.
    static func appendNumber(_ text: UnsafeBufferPointer<UInt8>, to out: inout ByteWriter) -> Bool {
        var i = 0
        let negative = sign(text, &i)
        let integerStart = i
        while i < text.count, isDigit(text[i]) { i += 1 }
        let integer = integerStart..<i
        var fraction = i..<i
        if i < text.count, text[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < text.count, isDigit(text[i]) { i += 1 }
            fraction = start..<i
        }
        guard !integer.isEmpty || !fraction.isEmpty else { return false }
        var exponent = i..<i
        var exponentNegative = false
        if i < text.count, text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E") {
            i += 1
            exponentNegative = sign(text, &i)
            let start = i
            while i < text.count, isDigit(text[i]) { i += 1 }
            exponent = start..<i
            guard !exponent.isEmpty else { return false }
        }
        guard i == text.count else { return false }
        if negative { out.append(UInt8(ascii: "-")) }
        if integer.isEmpty { out.append(UInt8(ascii: "0")) } else { appendDigits(text, integer, to: &out) }
        if !fraction.isEmpty {
            out.append(UInt8(ascii: "."))
            out.append(UnsafeBufferPointer(rebasing: text[fraction]))
        }
        if !exponent.isEmpty {
            out.append(UInt8(ascii: "e"))
            if exponentNegative { out.append(UInt8(ascii: "-")) }
            out.append(UnsafeBufferPointer(rebasing: text[exponent]))
        }
        return true
    }

    /// `true`/`false` in any case, or `1`/`0`.
    static func boolean(_ text: UnsafeBufferPointer<UInt8>) -> Bool? {
        if text.count == 1 {
            switch text[0] {
            case UInt8(ascii: "1"): return true
            case UInt8(ascii: "0"): return false
            default: return nil
            }
        }
        func spells(_ word: StaticString) -> Bool {
            text.count == word.utf8CodeUnitCount && (0..<text.count).allSatisfy { text[$0] | 0x20 == word.utf8Start[$0] }
        }
        if spells("true") { return true }
        if spells("false") { return false }
        return nil
    }

    /// `YYYY-MM-DD`, a real calendar day.
    static func isDate(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard text.count == 10, text[4] == UInt8(ascii: "-"), text[7] == UInt8(ascii: "-") else { return false }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for k in range {
                guard isDigit(text[k]) else { return nil }
                value = value * 10 + Int(text[k] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    private static func sign(_ text: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> Bool {
        guard i < text.count else { return false }
        if text[i] == UInt8(ascii: "-") { i += 1; return true }
        if text[i] == UInt8(ascii: "+") { i += 1 }
        return false
    }

    /// Digits without leading zeros (one zero for zero).
    private static func appendDigits(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, to out: inout ByteWriter) {
        var start = range.lowerBound
        while start < range.upperBound - 1, text[start] == UInt8(ascii: "0") { start += 1 }
        out.append(UnsafeBufferPointer(rebasing: text[start..<range.upperBound]))
    }
}
