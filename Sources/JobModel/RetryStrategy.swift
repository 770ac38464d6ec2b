/// How many attempts a job gets and which failures are worth another, in the manner of AWS
/// Batch's `retryStrategy` with `evaluateOnExit`.
public struct RetryStrategy: Sendable, Equatable, Encodable {
    /// 1 to 10, the first attempt included.
    public var attempts: Int
    /// Checked in order; the first rule whose conditions all hold decides. None matching: retry.
    public var evaluateOnExit: [ExitRule]

    public init(attempts: Int = 1, evaluateOnExit: [ExitRule] = []) {
        self.attempts = attempts
        self.evaluateOnExit = evaluateOnExit
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case attempts, evaluateOnExit = "evaluate_on_exit" }

    public enum Action: String, Sendable, Equatable, Encodable, CaseIterable {
        case retry = "RETRY", exit = "EXIT"
    }

    /// Conditions on how an attempt ended. Each pattern matches exactly, or as a prefix when it
    /// ends with `*`; an absent condition holds for anything.
    public struct ExitRule: Sendable, Equatable, Encodable {
        /// The failing step's exit code, `137` or `1*`.
        public var onExitCode: String?
        /// The record's status reason, `Host EC2*` for an interrupted instance.
        public var onStatusReason: String?
        /// The failing step's reason, `Step * timed out*`.
        public var onReason: String?
        public var action: Action

        public init(onExitCode: String? = nil, onStatusReason: String? = nil, onReason: String? = nil, action: Action) {
            self.onExitCode = onExitCode
            self.onStatusReason = onStatusReason
            self.onReason = onReason
            self.action = action
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case onExitCode = "on_exit_code", onStatusReason = "on_status_reason", onReason = "on_reason", action
        }

        func matches(exitCode: Int?, statusReason: String?, reason: String?) -> Bool {
            Self.matches(onExitCode, exitCode.map(String.init)) && Self.matches(onStatusReason, statusReason)
                && Self.matches(onReason, reason)
        }

        static func matches(_ pattern: String?, _ value: String?) -> Bool {
            guard let pattern else { return true }
            guard let value else { return false }
            if pattern.hasSuffix("*") { return value.hasPrefix(pattern.dropLast()) }
            return value == pattern
        }
    }

    /// Whether the attempt that ended this way should be followed by another.
    public func shouldRetry(attempt: Int, exitCode: Int?, statusReason: String?, reason: String?) -> Bool {
        guard attempt < attempts else { return false }
        let rule = evaluateOnExit.first { $0.matches(exitCode: exitCode, statusReason: statusReason, reason: reason) }
        return rule?.action ?? .retry == .retry
    }
}
