import AWSCore
import JobModel
import JobStore
import WallTime

/// Makes the job table writes `sortie-runner` makes, through the same `JobStore` methods as
/// JobRunner's `AWSReport`, without running steps: RUNNING with a heartbeat, then the final record that frees the slots. For
/// the reactor's tests and benchmark, which react to those writes.
public struct RunnerStandIn: Sendable {
    public let store: JobStore
    public let logBucket: String

    public init(store: JobStore, logBucket: String) {
        self.store = store
        self.logBucket = logBucket
    }

    public struct NotItsAttempt: Error, CustomStringConvertible {
        public var description: String
    }

    /// STARTING → RUNNING on the record's instance.
    public func begin(_ record: JobRecord, heartbeatAt: Int64 = WallClock.unixMilliseconds()) throws(AWSError) -> Bool {
        try store.beginRun(
            record.id, attempt: record.attempt, instanceID: record.instanceID ?? "unknown",
            logStream: "/sortie/jobs \(record.job)/\(record.id)/attempt-\(record.attempt)",
            reason: "Runner started on instance \(record.instanceID ?? "unknown")", heartbeatAt: heartbeatAt)
    }

    /// RUNNING → SUCCEEDED (exit 0) or FAILED in step `load`, with the log's S3 address.
    public func finish(_ record: JobRecord, exitCode: Int) throws(AWSError) -> Bool {
        let succeeded = exitCode == 0
        let outcome = JobOutcome(
            succeeded: succeeded, exitCode: exitCode, failingStep: succeeded ? nil : "load",
            statusReason: succeeded ? "All 1 steps succeeded" : "Step 'load' failed",
            reason: succeeded ? nil : "Step 'load' exited with status \(exitCode)", durationMilliseconds: 1200, interrupted: false)
        return try store.finishRun(
            record.id, attempt: record.attempt, job: record.job, outcome,
            logURI: "s3://\(logBucket)/logs/\(record.job)/\(record.id)/attempt-\(record.attempt).log")
    }

    /// Both, as a runner that ran its steps to the end.
    public func run(_ record: JobRecord, exitCode: Int) throws {
        guard try begin(record) else { throw NotItsAttempt(description: "job \(record.id) attempt \(record.attempt) was not STARTING") }
        guard try finish(record, exitCode: exitCode) else { throw NotItsAttempt(description: "job \(record.id) attempt \(record.attempt) was not RUNNING") }
    }
}
