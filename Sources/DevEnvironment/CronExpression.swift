import Foundation

/// An EventBridge `cron(minutes hours day-of-month month day-of-week year)` expression, in UTC.
/// Fields take `*`, `?`, numbers, names (`JAN`, `MON`), lists, ranges and `/` steps; day-of-week
/// counts 1-7 from Sunday. `L`, `W` and `#` are not supported (`init` answers `nil`).
public struct CronExpression: Sendable, Equatable {
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>?
    let months: Set<Int>
    let daysOfWeek: Set<Int>?
    let years: Set<Int>?

    public init?(_ expression: String) {
        guard expression.hasPrefix("cron("), expression.hasSuffix(")") else { return nil }
        let fields = expression.dropFirst("cron(".count).dropLast().split(separator: " ").map(String.init)
        guard fields.count == 6,
              let minutes = Self.values(fields[0], 0...59), let hours = Self.values(fields[1], 0...23),
              let months = Self.values(fields[3], 1...12, names: Self.monthNames)
        else { return nil }
        // `?` (or `*`) in one day field leaves the other to decide.
        let daysOfMonth = Self.values(fields[2], 1...31)
        let daysOfWeek = Self.values(fields[4], 1...7, names: Self.dayNames)
        guard daysOfMonth != nil || fields[2] == "?", daysOfWeek != nil || fields[4] == "?" else { return nil }
        self.minutes = minutes
        self.hours = hours
        self.daysOfMonth = fields[2] == "?" || fields[2] == "*" ? nil : daysOfMonth
        self.months = months
        self.daysOfWeek = fields[4] == "?" || fields[4] == "*" ? nil : daysOfWeek
        self.years = fields[5] == "*" ? nil : Self.values(fields[5], 1970...2199)
    }

    /// Whether the expression fires in the minute that holds `date`.
    public func matches(_ date: Date) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.minute, .hour, .day, .month, .weekday, .year], from: date)
        guard let minute = parts.minute, let hour = parts.hour, let day = parts.day, let month = parts.month,
              let weekday = parts.weekday, let year = parts.year
        else { return false }
        return minutes.contains(minute) && hours.contains(hour) && months.contains(month)
            && (daysOfMonth?.contains(day) ?? true) && (daysOfWeek?.contains(weekday) ?? true) && (years?.contains(year) ?? true)
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// One field's values; `nil` when it is malformed or uses what is not supported.
    static func values(_ field: String, _ range: ClosedRange<Int>, names: [String] = []) -> Set<Int>? {
        func number(_ text: Substring) -> Int? {
            if let index = names.firstIndex(of: text.uppercased()) { return range.lowerBound + index }
            return Int(text).flatMap { range.contains($0) ? $0 : nil }
        }
        var result: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return nil }
            let step = pieces.count == 2 ? Int(pieces[1]) : 1
            guard let step, step > 0 else { return nil }
            let span: ClosedRange<Int>
            if pieces[0] == "*" || pieces[0] == "?" {
                span = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let low = number(pieces[0][..<dash]), let high = number(pieces[0][pieces[0].index(after: dash)...]), low <= high else { return nil }
                span = low...high
            } else {
                guard let value = number(pieces[0]) else { return nil }
                span = value...(pieces.count == 2 ? range.upperBound : value)
            }
            result.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        return result
    }
}
