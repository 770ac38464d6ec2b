import JobModel
import JobStore

/// One attempt's instance and how long it ran: what its cost is computed from.
public struct AttemptUsage: Sendable, Equatable {
    public var attempt: Int
    public var instanceID: String
    /// Nil for an attempt summarised before Sortie kept it: its price is unknown.
    public var instanceType: String?
    public var market: InstanceSpec.Market?
    public var availabilityZone: String?
    /// Its last launch (STARTING), epoch milliseconds; nil when the history has none.
    public var start: Int64?
    /// Its ending (SUCCEEDED or FAILED); nil while it runs.
    public var end: Int64?

    public init(
        attempt: Int, instanceID: String, instanceType: String?, market: InstanceSpec.Market?, availabilityZone: String?, start: Int64?, end: Int64?
    ) {
        self.attempt = attempt
        self.instanceID = instanceID
        self.instanceType = instanceType
        self.market = market
        self.availabilityZone = availabilityZone
        self.start = start
        self.end = end
    }

    /// EC2 bills Linux instances per second, with a minimum of 60 seconds.
    public static let minimumBilledMilliseconds: Int64 = 60_000

    /// The hours billed from its start to its end (or `now`, while it runs); nil without a start.
    public func hours(now: Int64) -> Double? {
        guard let start else { return nil }
        return Double(max((end ?? now) - start, Self.minimumBilledMilliseconds)) / 3_600_000
    }

    /// Every attempt of the job that had an instance, oldest first. Attempt n's span is the n-th
    /// stretch of the history up to an ending: from its last STARTING (a launch refused for
    /// capacity goes back to RUNNABLE and starts again) to its SUCCEEDED or FAILED.
    public static func attempts(_ job: JobStore.StoredJob) -> [AttemptUsage] {
        var spans: [(start: Int64?, end: Int64?)] = []
        var start: Int64?
        for transition in job.record.history {
            switch transition.state {
            case .starting: start = transition.at
            case .succeeded, .failed:
                spans.append((start, transition.at))
                start = nil
            default: break
            }
        }
        spans.append((start, nil))
        func span(_ attempt: Int) -> (start: Int64?, end: Int64?) { spans.indices.contains(attempt - 1) ? spans[attempt - 1] : (nil, nil) }
        var usages = job.earlierAttempts.compactMap { earlier -> AttemptUsage? in
            guard let instance = earlier.instanceID else { return nil }
            let (start, end) = span(earlier.attempt)
            return AttemptUsage(
                attempt: earlier.attempt, instanceID: instance, instanceType: earlier.instanceType, market: earlier.market,
                availabilityZone: earlier.availabilityZone, start: start, end: end)
        }
        let record = job.record
        if let instance = record.instanceID {
            let (start, end) = span(record.attempt)
            usages.append(AttemptUsage(
                attempt: record.attempt, instanceID: instance, instanceType: record.instanceType, market: record.market,
                availabilityZone: record.availabilityZone, start: start, end: record.state.isFinal ? end : nil))
        }
        return usages
    }
}
