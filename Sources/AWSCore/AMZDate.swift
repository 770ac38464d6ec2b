#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two UTC stamps SigV4 uses, `20150830T123600Z` and `20150830`, computed arithmetically:
/// signing happens on every request and must not pay for a date formatter.
public struct AMZDate: Sendable, Equatable {
    public let timestamp: String
    public var dateStamp: Substring { timestamp.prefix(8) }

    public init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civil(fromDays: days)
        var text = ""
        text.reserveCapacity(16)
        Self.append(year, width: 4, to: &text)
        Self.append(month, width: 2, to: &text)
        Self.append(day, width: 2, to: &text)
        text += "T"
        Self.append(secondOfDay / 3600, width: 2, to: &text)
        Self.append(secondOfDay / 60 % 60, width: 2, to: &text)
        Self.append(secondOfDay % 60, width: 2, to: &text)
        text += "Z"
        timestamp = text
    }

    /// Takes an already formatted stamp (test vectors).
    public init(timestamp: String) {
        self.timestamp = timestamp
    }

    /// Howard Hinnant's days-to-civil conversion for the proleptic Gregorian calendar.
    static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func append(_ value: Int, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
}
