import Foundation
import JobModel
import JobStore

/// What a job's attempts cost on EC2: each attempt's billed hours at its market's price (on-demand
/// from the Price List, spot time-weighted over its window), and their sum. The sum is unknown
/// when one attempt's price is: a cost is never made up.
public struct JobCost: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var usage: AttemptUsage
        /// Nil when the history holds no launch for it.
        public var hours: Double?
        public var price: Price

        /// Its cost in US dollars, when both its hours and its price are known.
        public var usd: Double? {
            guard let hours, case .usdPerHour(let rate) = price else { return nil }
            return hours * rate
        }

        /// Why its cost is unknown; nil when it is known.
        public var unknown: String? {
            if case .unknown(let reason) = price { return reason }
            return hours == nil ? "no launch recorded for attempt \(usage.attempt)" : nil
        }
    }

    public var id: String
    public var job: String
    public var region: String
    public var attempts: [Attempt]

    /// Every attempt's cost added up; nil when any is unknown.
    public var usd: Double? {
        var total = 0.0
        for attempt in attempts {
            guard let usd = attempt.usd else { return nil }
            total += usd
        }
        return total
    }

    /// The known attempts' sum, whatever the others.
    public var knownUSD: Double { attempts.compactMap(\.usd).reduce(0, +) }
    public var unknownAttempts: Int { attempts.filter { $0.usd == nil }.count }
    public var hours: Double { attempts.compactMap(\.hours).reduce(0, +) }

    /// `now` (epoch milliseconds) ends an attempt still running.
    public init(_ stored: JobStore.StoredJob, prices: PriceBook, now: Int64) {
        id = stored.record.id
        job = stored.record.job
        region = prices.region
        attempts = AttemptUsage.attempts(stored).map { usage in
            Attempt(usage: usage, hours: usage.hours(now: now), price: Self.price(usage, prices: prices, now: now))
        }
    }

    static func price(_ usage: AttemptUsage, prices: PriceBook, now: Int64) -> Price {
        guard let type = usage.instanceType else { return .unknown("no instance type recorded for attempt \(usage.attempt)") }
        guard let market = usage.market else { return .unknown("no market recorded for attempt \(usage.attempt)") }
        switch market {
        case .onDemand:
            return prices.onDemand(type)
        case .spot:
            guard let zone = usage.availabilityZone else { return .unknown("no availability zone recorded for spot attempt \(usage.attempt)") }
            guard let start = usage.start else { return .unknown("no launch recorded for attempt \(usage.attempt)") }
            return prices.spot(type, zone: zone, from: start, to: usage.end ?? now, final: usage.end != nil)
        }
    }

    // MARK: Showing it

    /// US dollars as shown: four decimals, since a short job costs fractions of a cent.
    public static func dollars(_ usd: Double) -> String { String(format: "$%.4f", usd) }

    /// `sortie describe`'s lines: one per attempt, then the job's.
    public var lines: [String] {
        var lines = ["cost (EC2 in \(region), USD):"]
        for attempt in attempts {
            let usage = attempt.usage
            let place = [usage.instanceType ?? "?", usage.market?.rawValue ?? "?", usage.market == .spot ? usage.availabilityZone : nil]
                .compactMap { $0 }.joined(separator: " ")
            let running = usage.end == nil ? " so far (running)" : ""
            let figure: String
            if let usd = attempt.usd, let hours = attempt.hours, case .usdPerHour(let rate) = attempt.price {
                figure = String(format: "%.4f h × %@/h = %@", hours, Self.dollars(rate), Self.dollars(usd)) + running
            } else {
                figure = "unknown: \(attempt.unknown ?? "")"
            }
            lines.append("  attempt \(usage.attempt)  \(usage.instanceID) (\(place))  \(figure)")
        }
        if attempts.isEmpty { lines.append("  no instance ran") }
        lines.append("  job: " + (usd.map(Self.dollars) ?? "unknown (\(Self.dollars(knownUSD)) known, \(unknownAttempts) attempt\(unknownAttempts == 1 ? "" : "s") unknown)"))
        return lines
    }

    /// `sortie describe --json`'s `cost`.
    public var json: [String: Any] {
        [
            "region": region, "currency": "USD", "usd": usd ?? NSNull(), "knownUsd": knownUSD, "unknownAttempts": unknownAttempts,
            "attempts": attempts.map { attempt -> [String: Any] in
                let usage = attempt.usage
                var object: [String: Any] = ["attempt": usage.attempt, "instanceId": usage.instanceID, "running": usage.end == nil]
                object["instanceType"] = usage.instanceType
                object["market"] = usage.market?.rawValue
                object["availabilityZone"] = usage.availabilityZone
                object["hours"] = attempt.hours
                if case .usdPerHour(let rate) = attempt.price { object["usdPerHour"] = rate }
                object["usd"] = attempt.usd
                object["unknown"] = attempt.unknown
                return object
            },
        ]
    }
}
