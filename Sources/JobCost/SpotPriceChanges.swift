import Foundation

/// Spot prices as EC2's DescribeSpotPriceHistory gives them: each price holds from its change to
/// the next one, and the answer includes the change in effect at the window's start.
public enum SpotPriceChanges {
    public struct Change: Sendable, Equatable {
        /// Epoch milliseconds.
        public var at: Int64
        public var usdPerHour: Double
        public init(at: Int64, usdPerHour: Double) {
            self.at = at
            self.usdPerHour = usdPerHour
        }
    }

    /// The time-weighted mean hourly price over [`from`, `to`): each price weighted by how long
    /// it held within the window. Nil when no change is at or before `from` (the price at the
    /// start is not known) or the window is empty. A price that held all through is that price
    /// exactly (EC2 repeats unchanged prices, and a sum of pieces would round it).
    public static func meanHourlyUSD(_ changes: [Change], from: Int64, to: Int64) -> Double? {
        guard to > from else { return nil }
        let sorted = changes.sorted { $0.at < $1.at }
        guard let first = sorted.lastIndex(where: { $0.at <= from }) else { return nil }
        var weighted = 0.0
        var prices = Set<Double>()
        for index in first..<sorted.count {
            let begins = max(sorted[index].at, from)
            let ends = min(index + 1 < sorted.count ? sorted[index + 1].at : to, to)
            guard ends > begins else { continue }
            weighted += sorted[index].usdPerHour * Double(ends - begins)
            prices.insert(sorted[index].usdPerHour)
        }
        if prices.count == 1, let only = prices.first { return only }
        return weighted / Double(to - from)
    }

    /// EC2's timestamp (`2024-05-01T10:15:00.000Z`, any number of fractional digits) as epoch milliseconds.
    public static func milliseconds(_ timestamp: String) -> Int64? {
        guard timestamp.hasSuffix("Z") else { return nil }
        var whole = String(timestamp.dropLast())
        var fraction = 0.0
        if let dot = whole.firstIndex(of: ".") {
            let digits = whole[whole.index(after: dot)...]
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let value = Double("0." + digits) else { return nil }
            fraction = value
            whole = String(whole[..<dot])
        }
        guard let date = ISO8601DateFormatter().date(from: whole + "Z") else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded()) + Int64((fraction * 1000).rounded(.down))
    }

    /// Epoch milliseconds as EC2 takes a time: `2024-05-01T10:15:00Z` (whole seconds, rounded down).
    public static func timestamp(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds.quotientRoundedDown(by: 1000))))
    }
}

extension Int64 {
    fileprivate func quotientRoundedDown(by divisor: Int64) -> Int64 { self >= 0 ? self / divisor : (self - divisor + 1) / divisor }
}
