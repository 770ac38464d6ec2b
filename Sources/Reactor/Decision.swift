import JobModel

/// What EC2 says about an instance that stopped or terminated, and whether a spot interruption
/// warning was recorded for its attempt.
public struct InstanceEnding: Sendable, Equatable {
    public var instanceID: String
    /// `terminated` or `stopped`; `nil` when EC2 no longer knows the instance.
    public var state: String?
    /// EC2's `StateReason` code, `Server.SpotInstanceTermination`, `Client.UserInitiatedShutdown`.
    public var reasonCode: String?
    public var reasonMessage: String?
    public var spotWarned: Bool

    public init(instanceID: String, state: String?, reasonCode: String?, reasonMessage: String?, spotWarned: Bool) {
        self.instanceID = instanceID
        self.state = state
        self.reasonCode = reasonCode
        self.reasonMessage = reasonMessage
        self.spotWarned = spotWarned
    }

    /// EC2 took the instance back (spot reclaim, internal error, capacity, retirement): `Server.*`
    /// codes, or a spot warning seen for this attempt. Not the job's doing, so worth another try.
    public var isHostFailure: Bool { spotWarned || reasonCode?.hasPrefix("Server.") == true }

    var detail: String? {
        guard let reasonCode else { return reasonMessage }
        return reasonMessage.map { $0.hasPrefix(reasonCode) ? $0 : "\(reasonCode): \($0)" } ?? reasonCode
    }
}

/// How an attempt that has not written its final record is recorded as failed.
public struct AttemptFailure: Sendable, Equatable {
    public var statusReason: String
    public var reason: String?
    /// Ended by a person or by the instance itself: never retried, whatever the rules say.
    public var lost: Bool

    public init(statusReason: String, reason: String?, lost: Bool) {
        self.statusReason = statusReason
        self.reason = reason
        self.lost = lost
    }
}

/// What the reactor decides for an attempt that has ended.
public enum Verdict: String, Sendable, Equatable, Encodable {
    case succeeded = "SUCCEEDED"
    /// Another attempt, once the backoff has passed.
    case retry = "RETRY"
    /// FAILED for good.
    case failed = "FAILED"
}

/// The decision table, free of I/O.
public enum Decision {
    /// AWS Batch's words for an attempt whose host went away; the runner uses them on SIGTERM.
    static func hostStatusReason(_ instanceID: String) -> String { "Host EC2 (instance \(instanceID)) terminated." }

    /// The failure to record for an attempt whose instance ended before the runner's final record;
    /// an operator's cancel (`cancelled`, its reason) is lost whatever EC2 says, as Batch's TerminateJob.
    public static func failure(_ ending: InstanceEnding, cancelled: String? = nil) -> AttemptFailure {
        if let cancelled { return AttemptFailure(statusReason: cancelled, reason: failure(ending).statusReason, lost: true) }
        if ending.isHostFailure {
            return AttemptFailure(statusReason: hostStatusReason(ending.instanceID), reason: ending.detail ?? "spot interruption warning", lost: false)
        }
        let how = switch ending.reasonCode {
        case "Client.UserInitiatedShutdown": "was \(ending.state ?? "ended") through the EC2 API"
        case "Client.InstanceInitiatedShutdown": "shut itself down"
        case nil where ending.state == nil: "is no longer known to EC2"
        default: "was \(ending.state ?? "ended")"
        }
        return AttemptFailure(
            statusReason: "Lost: instance \(ending.instanceID) \(how) before the runner's final record", reason: ending.detail, lost: true)
    }

    /// The verdict on a SUCCEEDED or FAILED attempt; `nil` for one that has not ended.
    /// `ending` is what EC2 says about its instance, when known; a `cancelled` attempt is never retried.
    public static func verdict(_ record: JobRecord, retry: RetryStrategy, ending: InstanceEnding?, cancelled: Bool = false) -> Verdict? {
        switch record.state {
        case .succeeded:
            return .succeeded
        case .failed where cancelled:
            return .failed
        case .failed:
            // A runner stopped by SIGTERM writes the host reason; only EC2 knows whether the
            // host was reclaimed (retry) or someone shut it down (lost).
            if let ending, record.statusReason?.hasPrefix("Host EC2 ") == true, !ending.isHostFailure { return .failed }
            let again = retry.shouldRetry(attempt: record.attempt, exitCode: record.exitCode, statusReason: record.statusReason, reason: record.reason)
            return again ? .retry : .failed
        case .submitted, .pending, .runnable, .starting, .running:
            return nil
        }
    }
}

/// The wait before a retry: `base`, then doubling with each attempt, never more than `max`.
public struct Backoff: Sendable, Equatable {
    public var baseSeconds: Int
    public var maxSeconds: Int

    public init(baseSeconds: Int, maxSeconds: Int) {
        self.baseSeconds = baseSeconds
        self.maxSeconds = maxSeconds
    }

    /// Seconds to wait before attempt `next` (2 for the first retry).
    public func seconds(before next: Int) -> Int {
        min(maxSeconds, baseSeconds << min(max(next - 2, 0), 20))
    }
}
