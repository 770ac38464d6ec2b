import Foundation

/// The cost of every job of one name (`sortie jobs --cost`): how many jobs and attempts, their
/// hours and known dollars, and how many attempts' prices are unknown (left out of the dollars).
public struct JobNameCost: Sendable, Equatable {
    public var job: String
    public var jobs: Int
    public var attempts: Int
    public var hours: Double
    public var knownUSD: Double
    public var unknownAttempts: Int

    /// Sums by job name, in name order.
    public static func byName(_ costs: [JobCost]) -> [JobNameCost] {
        Dictionary(grouping: costs, by: \.job).map { job, costs -> JobNameCost in
            var sum = JobNameCost(job: job, jobs: costs.count, attempts: 0, hours: 0, knownUSD: 0, unknownAttempts: 0)
            for cost in costs {
                sum.attempts += cost.attempts.count
                sum.hours += cost.hours
                sum.knownUSD += cost.knownUSD
                sum.unknownAttempts += cost.unknownAttempts
            }
            return sum
        }.sorted { $0.job < $1.job }
    }

    /// The dollars as shown: the sum, or the known part and how many attempts are unknown.
    public var cost: String {
        unknownAttempts == 0 ? JobCost.dollars(knownUSD) : "\(JobCost.dollars(knownUSD)) + \(unknownAttempts) unknown"
    }

    public var json: [String: Any] {
        ["job": job, "jobs": jobs, "attempts": attempts, "hours": hours, "knownUsd": knownUSD, "unknownAttempts": unknownAttempts,
         "usd": unknownAttempts == 0 ? knownUSD as Any : NSNull() as Any]
    }
}
