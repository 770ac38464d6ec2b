/// A job's state, named as AWS Batch names them.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Recorded; not yet given a slot.
    case submitted = "SUBMITTED"
    /// Waiting for the jobs it depends on to succeed (`depends_on`).
    case pending = "PENDING"
    /// Waiting for a free slot (its kind's `max_concurrency`, or the global limit).
    case runnable = "RUNNABLE"
    /// Holds a slot; its instance has been requested.
    case starting = "STARTING"
    /// The runner on the instance has reported in; an array's parent: its children are under way.
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"

    public var isFinal: Bool { self == .succeeded || self == .failed }

    /// STARTING and RUNNING jobs count against the limits.
    public var holdsSlot: Bool { self == .starting || self == .running }

    /// Where a job may go from here; every write checks it against the stored state.
    public var successors: Set<JobState> {
        switch self {
        // An array's parent goes to RUNNING without a slot: its children take them.
        case .submitted: [.pending, .runnable, .starting, .running, .failed]
        case .pending: [.runnable, .running, .failed]
        case .runnable: [.starting, .failed]
        // Back to RUNNABLE when EC2 had no capacity for any listed type.
        case .starting: [.runnable, .running, .succeeded, .failed]
        case .running: [.succeeded, .failed]
        case .succeeded, .failed: []
        }
    }

    /// The states from which `self` may be reached.
    public var predecessors: [JobState] { JobState.allCases.filter { $0.successors.contains(self) } }
}
