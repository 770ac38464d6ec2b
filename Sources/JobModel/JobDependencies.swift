/// Jobs that wait for other jobs, as AWS Batch's `dependsOn`: a job with dependencies is
/// PENDING until all of them SUCCEEDED, then RUNNABLE; when one of them has FAILED for good
/// it is FAILED too, without launching, and its own dependents follow. Whoever sees a
/// dependency end (the reactor deciding it, the launcher submitting a dependent, the sweep, a
/// cancel) resolves its dependents through `JobStore`, by these rules; every move is
/// conditional on PENDING, so of several resolvers one decides.
public enum JobDependencies {
    /// At most this many dependencies per job, as Batch allows.
    public static let limit = 20

    /// How a dependency stands for its dependents.
    public enum Standing: Sendable, Equatable {
        case succeeded
        /// FAILED with no retry to come (or gone from the table): `reason` says which and why.
        case failed(reason: String)
        /// Not ended yet, or FAILED with its retry still to be decided.
        case unfinished
    }

    /// What a PENDING job's dependencies say.
    public enum Verdict: Sendable, Equatable {
        /// All SUCCEEDED: it may run.
        case release
        case fail(reason: String)
        /// These have not ended.
        case wait([String])
    }

    /// The first failure decides; otherwise it waits for the unfinished, or is released.
    public static func verdict(_ standings: [(id: String, standing: Standing)]) -> Verdict {
        let failures = standings.compactMap { entry -> String? in
            if case .failed(let reason) = entry.standing { reason } else { nil }
        }
        if let first = failures.first {
            return .fail(reason: failures.count == 1 ? first : "\(first) (and \(failures.count - 1) more of its dependencies)")
        }
        let unfinished = standings.filter { $0.standing == .unfinished }.map(\.id)
        return unfinished.isEmpty ? .release : .wait(unfinished)
    }

    public static func standing(_ id: String, _ outcome: (record: JobRecord, finished: Bool)?) -> Standing {
        guard let (record, finished) = outcome else { return .failed(reason: "Dependency \(id) no longer exists") }
        switch record.state {
        case .succeeded: return .succeeded
        case .failed where finished: return .failed(reason: "Dependency \(record.job) \(id) FAILED: \(record.statusReason ?? "no reason recorded")")
        default: return .unfinished
        }
    }

    /// How a PENDING job's reason reads while it waits.
    public static func waitingReason(_ ids: [String]) -> String {
        "Waiting for \(ids.count == 1 ? "job" : "\(ids.count) jobs") to succeed: \(ids.joined(separator: ", "))"
    }
}
