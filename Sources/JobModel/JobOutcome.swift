/// How an attempt's steps ended, in the record's terms.
public struct JobOutcome: Sendable, Equatable {
    public var succeeded: Bool
    /// The failing step's exit code, or the last step's when all succeeded; `nil` when it was
    /// stopped (timeout, interruption) or killed by a signal.
    public var exitCode: Int?
    public var failingStep: String?
    /// The job-level reason, in AWS Batch's words where Batch has some.
    public var statusReason: String
    /// The step-level reason.
    public var reason: String?
    public var durationMilliseconds: Int64
    /// The runner was told to stop (SIGTERM: spot interruption, shutdown).
    public var interrupted: Bool

    public init(
        succeeded: Bool, exitCode: Int?, failingStep: String?, statusReason: String, reason: String?, durationMilliseconds: Int64, interrupted: Bool
    ) {
        self.succeeded = succeeded
        self.exitCode = exitCode
        self.failingStep = failingStep
        self.statusReason = statusReason
        self.reason = reason
        self.durationMilliseconds = durationMilliseconds
        self.interrupted = interrupted
    }
}
