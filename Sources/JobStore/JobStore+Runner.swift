import AWSCore
import AWSServices
import JobModel
import TableSchema
import WallTime

/// The runner's writes on its attempt's record: RUNNING when it starts, a heartbeat while it
/// runs, the final record (which frees the job's slots) when it ends.
extension JobStore {
    /// STARTING → RUNNING on `instanceID` (when known), its step output in CloudWatch Logs
    /// `logStream` (group and stream). `false` when the attempt was no longer STARTING.
    public func beginRun(
        _ id: String, attempt: Int, instanceID: String?, logStream: String, reason: String, heartbeatAt: Int64 = WallClock.unixMilliseconds()
    ) throws(AWSError) -> Bool {
        var set: DynamoDB.Item = [:]
        set[.logStream] = .s(logStream)
        set[.heartbeatAt] = .number(heartbeatAt)
        set[.instanceID] = instanceID.map { .s($0) }
        return try transition(id, attempt: attempt, from: [.starting], to: .running, reason: reason, set: set)
    }

    /// Touches a RUNNING attempt's heartbeat; `false` when it is no longer RUNNING.
    public func heartbeat(_ id: String, attempt: Int) throws(AWSError) -> Bool {
        try annotate(id, attempt: attempt, set: DynamoDB.Item().with([.heartbeatAt: .number(WallClock.unixMilliseconds())]), onlyIn: [.running])
    }

    /// RUNNING → SUCCEEDED or FAILED with the outcome and where its full log was put (`s3://…`;
    /// `nil` when it could not be), freeing the slots of kind `job`. `false` when the attempt
    /// was no longer RUNNING.
    public func finishRun(_ id: String, attempt: Int, job: String, _ outcome: JobOutcome, logURI: String?) throws(AWSError) -> Bool {
        var set: DynamoDB.Item = [:]
        set[.durationMs] = .number(outcome.durationMilliseconds)
        set[.logUri] = logURI.map { .s($0) }
        set[.exitCode] = outcome.exitCode.map { .number($0) }
        set[.failingStep] = outcome.failingStep.map { .s($0) }
        set[.reason] = outcome.reason.map { .s($0) }
        return try transition(id, attempt: attempt, from: [.running], to: outcome.succeeded ? .succeeded : .failed, reason: outcome.statusReason, set: set, freeingSlotsOf: job)
    }
}
