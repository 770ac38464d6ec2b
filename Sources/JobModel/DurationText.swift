/// A span of time as people write one: whole seconds, or `90s`, `30m`, `2h`, `7d`, `1h30m` (specs'
/// timeouts, `sortie jobs --since`, `sortie report --since`).
public enum DurationText {
    /// The seconds `text` says; nil when it is not such a duration.
    public static func seconds(_ text: String) -> Int? {
        if let plain = Int(text) { return plain }
        var total = 0
        var digits = ""
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let count = Int(digits), count <= 1_000_000 else { return nil }
            total += count * unit
            digits = ""
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }
}
