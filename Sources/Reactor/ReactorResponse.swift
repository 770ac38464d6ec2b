import JobModel
import JobStore

/// What one event did, for the logs and the tests:
///
/// - `ignored`: not an ending, or not Sortie's instance;
/// - `noted`: a spot interruption warning recorded on the attempt;
/// - `stale`: the event is about an attempt that is already decided and retried;
/// - `duplicate`: the attempt was decided by an earlier delivery;
/// - `decided`: this delivery wrote the decision (`decision`);
/// - `swept`: the schedule's pass (`recovered` lists the jobs it ended or decided).
public struct ReactorResponse: Sendable, Equatable, Encodable {
    public enum Outcome: String, Sendable, Encodable {
        case ignored, noted, stale, duplicate, decided, swept
    }

    public var outcome: Outcome
    public var instanceID: String?
    public var jobID: String?
    public var attempt: Int?
    public var decision: Verdict?
    /// Why, in words.
    public var detail: String?
    /// When a retry may start, in milliseconds since the epoch.
    public var notBefore: Int64?
    /// Jobs this event started, in the order it started them.
    public var started: [String]?
    public var recovered: [String]?
    /// Dependents this event's decision made RUNNABLE, and those it FAILED (with theirs).
    public var released: [String]?
    public var dependentsFailed: [String]?

    /// The response's keys, as callers read them.
    enum CodingKeys: String, CodingKey {
        case outcome, instanceID = "instanceId", jobID = "jobId", attempt, decision, detail, notBefore, started, recovered, released, dependentsFailed
    }

    public init(
        _ outcome: Outcome, instanceID: String? = nil, jobID: String? = nil, attempt: Int? = nil, decision: Verdict? = nil, detail: String? = nil,
        notBefore: Int64? = nil
    ) {
        self.outcome = outcome
        self.instanceID = instanceID
        self.jobID = jobID
        self.attempt = attempt
        self.decision = decision
        self.detail = detail
        self.notBefore = notBefore
    }

    mutating func dependents(_ moved: [JobStore.Resolution]) {
        released = moved.released.isEmpty ? nil : moved.released
        dependentsFailed = moved.failed.isEmpty ? nil : moved.failed
    }
}
