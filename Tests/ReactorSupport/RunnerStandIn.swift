import AWSCore
import AWSServices
import SortieModel

/// Writes to the job table what `sortie-runner` writes (see JobRunner's `AWSReport`), without
/// running steps: RUNNING with a heartbeat, then the final record that frees the slots. For
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
    public func begin(_ record: JobRecord, heartbeatAt: Int64 = JobStore.now()) throws(AWSError) -> Bool {
        try store.transition(
            record.id, attempt: record.attempt, from: [.starting], to: .running, reason: "Runner started on instance \(record.instanceID ?? "unknown")",
            set: [
                "instanceId": .s(record.instanceID ?? "unknown"), "heartbeatAt": .number(heartbeatAt),
                "logStream": .s("/sortie/jobs \(record.job)/\(record.id)/attempt-\(record.attempt)"),
            ])
    }

    /// RUNNING → SUCCEEDED (exit 0) or FAILED in step `load`, with the log's S3 address.
    public func finish(_ record: JobRecord, exitCode: Int) throws(AWSError) -> Bool {
        var set: DynamoDB.Item = [
            "durationMs": .number(1200), "exitCode": .number(exitCode),
            "logUri": .s("s3://\(logBucket)/logs/\(record.job)/\(record.id)/attempt-\(record.attempt).log"),
        ]
        if exitCode != 0 {
            set["failingStep"] = .s("load")
            set["reason"] = .s("Step 'load' exited with status \(exitCode)")
        }
        return try store.transition(
            record.id, attempt: record.attempt, from: [.running], to: exitCode == 0 ? .succeeded : .failed,
            reason: exitCode == 0 ? "All 1 steps succeeded" : "Step 'load' failed", set: set, freeingSlotsOf: record.job)
    }

    /// Both, as a runner that ran its steps to the end.
    public func run(_ record: JobRecord, exitCode: Int) throws {
        guard try begin(record) else { throw NotItsAttempt(description: "job \(record.id) attempt \(record.attempt) was not STARTING") }
        guard try finish(record, exitCode: exitCode) else { throw NotItsAttempt(description: "job \(record.id) attempt \(record.attempt) was not RUNNING") }
    }
}
