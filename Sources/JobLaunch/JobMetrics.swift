import EmbeddedMetrics
import JobModel

/// A job attempt's ending as metrics, by job: what the reactor decided for it, or FAILED at launch.
public enum JobMetrics {
    public enum Outcome: String, Sendable {
        case succeeded = "SUCCEEDED", retried = "RETRY", failed = "FAILED"

        var metric: Metric {
            switch self {
            case .succeeded: .jobsSucceeded
            case .retried: .jobsRetried
            case .failed: .jobsFailed
            }
        }
    }

    /// The line for `record`'s current attempt. Duration and queue wait are left out when the
    /// history does not show them (an attempt refused at launch never ran).
    public static func ending(_ record: JobRecord, outcome: Outcome, at now: Int64) -> MetricLine {
        var values: [(metric: Metric, value: Int64)] = [(.attempts, Int64(record.attempt))]
        let started = record.history.lastIndex { $0.state == .starting }
        if let started {
            // This attempt's entries run from after the previous attempt's FAILED to its own ending.
            // Its wait runs from its first SUBMITTED or RUNNABLE to the entry after its last: the
            // launch's STARTING, or the FAILED of a capacity shortage that outlasted capacity_timeout
            // (a try while waiting one out makes no entry of its own: that wait ends now).
            let begins = record.history[..<started].lastIndex { $0.state == .failed }.map { $0 + 1 } ?? 0
            let ends = record.history[started...].firstIndex { $0.state.isFinal } ?? record.history.endIndex
            let attempt = record.history[begins..<ends]
            let isWaiting = { (state: JobState) in state == .submitted || state == .runnable }
            if let first = attempt.first(where: { isWaiting($0.state) }), let last = attempt.lastIndex(where: { isWaiting($0.state) }) {
                let left = last + 1 < record.history.endIndex ? record.history[last + 1].at : isWaiting(record.state) ? nil : now
                if let left { values.append((.queueWait, max(0, left - first.at))) }
            }
        }
        if let duration = record.durationMilliseconds ?? ranFor(record, since: started) { values.append((.jobDuration, duration)) }
        values += [Outcome.succeeded, .retried, .failed].map { ($0.metric, $0 == outcome ? 1 : 0) }
        return MetricLine(
            dimension: (.job, record.job), values: values,
            properties: [("JobId", record.id), ("Attempt", String(record.attempt)), ("Outcome", outcome.rawValue)], timestampMilliseconds: now)
    }

    /// From RUNNING to the attempt's last transition, when the runner's own figure is missing (a lost instance).
    private static func ranFor(_ record: JobRecord, since started: Int?) -> Int64? {
        guard let started, let running = record.history[started...].first(where: { $0.state == .running }), let last = record.history.last,
              last.state.isFinal else { return nil }
        return max(0, last.at - running.at)
    }
}
