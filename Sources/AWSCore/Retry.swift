import CurlHTTP
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The SDKs' standard retry mode: a bounded number of attempts, exponential backoff with full
/// jitter under a cap, retrying throttling, 5xx and transient network failures only.
public struct RetryPolicy: Sendable {
    /// Attempts including the first; `AWS_MAX_ATTEMPTS` sets it from the environment.
    public var maxAttempts: Int
    /// The first retry waits up to this long, each further one up to twice the previous.
    public var baseDelay: Duration
    /// Throttling backs off from a larger base: the service asked us to slow down.
    public var throttlingBaseDelay: Duration
    public var maxBackoff: Duration
    /// Blocks the calling thread; injectable so tests record the waits instead of sleeping.
    public var sleep: @Sendable (Duration) -> Void
    /// A uniform value in [0, 1): the jitter.
    public var random: @Sendable () -> Double

    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(100), throttlingBaseDelay: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(20), sleep: @escaping @Sendable (Duration) -> Void = RetryPolicy.blockingSleep,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.throttlingBaseDelay = throttlingBaseDelay
        self.maxBackoff = maxBackoff
        self.sleep = sleep
        self.random = random
    }

    public enum Reason: Sendable, Equatable {
        case throttling, transient
    }

    /// Full jitter: uniform in [0, min(cap, base × 2^(retry-1))], `retry` counting from 1.
    public func backoff(retry: Int, reason: Reason) -> Duration {
        let base = reason == .throttling ? throttlingBaseDelay : baseDelay
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(base * (1 << exponent), maxBackoff)
        let seconds = Double(ceiling.components.seconds) + Double(ceiling.components.attoseconds) / 1e18
        return .nanoseconds(Int64(random() * seconds * 1e9))
    }

    /// Codes the SDKs treat as throttling, across the services Sortie calls.
    public static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "ThrottlingError",
    ]
    public static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure", "InternalServerError",
        "ServiceUnavailable", "ServiceUnavailableException",
    ]
    public static let transientStatuses: Set<Int> = [500, 502, 503, 504]
    /// EC2's "no capacity here, now" answers: 500s, but asked again at once they say the same, and
    /// the caller has somewhere else to try (another type, subnet or market) before waiting.
    public static let capacityCodes: Set<String> = [
        "InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientReservedInstanceCapacity", "InsufficientCapacity",
    ]

    /// Why `error` may be retried, or `nil` when it must not be (validation, conditions, auth).
    public static func retryReason(_ error: AWSError) -> Reason? {
        switch error.kind {
        case .transport(let kind):
            return kind == .tls ? nil : .transient
        case .service:
            if capacityCodes.contains(error.code) { return nil }
            if throttlingCodes.contains(error.code) || error.status == 429 { return .throttling }
            if transientCodes.contains(error.code) || transientStatuses.contains(error.status) { return .transient }
            return nil
        case .credentials, .configuration, .invalidResponse:
            return nil
        }
    }

    public static let blockingSleep: @Sendable (Duration) -> Void = { duration in
        let (seconds, attoseconds) = duration.components
        guard seconds > 0 || attoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}

/// The standard mode's retry token bucket: retries spend tokens, successes return them, so a
/// failing service sees fewer retries instead of a multiplied load.
final class RetryQuota: Sendable {
    static let capacity = 500
    static let retryCost = 5
    static let timeoutCost = 10
    private let tokens = Mutex(RetryQuota.capacity)

    /// Takes the cost of one retry, or `nil` when the bucket cannot pay for it.
    func acquire(for error: AWSError) -> Int? {
        let cost = error.kind == .transport(.timedOut) ? Self.timeoutCost : Self.retryCost
        return tokens.withLock { tokens in
            guard tokens >= cost else { return nil }
            tokens -= cost
            return cost
        }
    }

    /// A success returns what its retries took, or one token when there were none.
    func release(_ spent: Int) {
        tokens.withLock { $0 = min(Self.capacity, $0 + max(spent, 1)) }
    }

    var available: Int { tokens.withLock { $0 } }
}
