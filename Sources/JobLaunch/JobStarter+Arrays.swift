import AWSCore
import JobModel
import JobStore
import Logging
import WallTime

extension JobStarter {
    /// What advancing an array did.
    public struct ArrayAdvance: Sendable, Equatable {
        /// Children created now and launched, in index order.
        public var launched: [String] = []
        /// Children created now and left waiting for a slot (an older job may have taken it).
        public var queued: [String] = []
        /// Children created FAILED because what they wait for FAILED.
        public var failed: [String] = []
        /// The parent, when this advance decided it.
        public var decided: JobRecord?
        /// The parent as this advance read it.
        public var parent: JobRecord?
    }

    /// Moves a RUNNING array on: decides it once every child has been counted; otherwise creates
    /// its next children (`JobStore.createChildren`, up to the spec's `max_concurrency` open at
    /// once) and starts or queues each as a new job is. The launcher calls it on submission,
    /// the reactor whenever a child ends and from its sweep: whoever comes, conditional writes
    /// make each child once.
    public func advanceArray(_ parentID: String, logger: Logger) throws(LaunchError) -> ArrayAdvance {
        let store = try store()
        var advance = ArrayAdvance()
        guard let current = try aws({ () throws(AWSError) in try store.array(parentID) }) else { return advance }
        advance.parent = current.record
        if let decided = try decideArray(parentID, current: current, store: store, logger: logger) {
            advance.decided = decided
            return advance
        }
        guard current.record.state == .running else { return advance }
        let spec = try spec(for: current.record)
        let made = try aws { () throws(AWSError) in
            try store.createChildren(parentID, window: JobArrays.window(maxConcurrency: spec.maxConcurrency), current: current)
        }
        let now = WallClock.unixMilliseconds()
        for failed in made.failed {
            emit(JobMetrics.ending(failed, outcome: .failed, at: now).rendered())
            advance.failed.append(failed.id)
        }
        // The new children joined their kind's queue: as many starts as children made, each the
        // queue's head (an older child, or an older job of the kind, goes first).
        var started: [String] = []
        starting: for _ in made.runnable {
            guard let head = try aws({ () throws(AWSError) in try store.firstDue(job: spec.name, now: WallClock.unixMilliseconds()) }),
                  let record = try aws({ () throws(AWSError) in try store.record(head) }), record.state == .runnable else { break }
            // A launch failure is the job's own (recorded on it; a child's counted on its parent): the others go on.
            do {
                let own = record.overrides == current.record.overrides ? spec : try self.spec(for: record)
                switch try startOrQueue(record, own, store: store, logger: logger, duplicate: false).outcome {
                case .launched: started.append(head)
                case .waiting: break starting  // no slot left
                default: continue  // the reactor's walk started it first
                }
            } catch {
                logger.error("job \(head) not started: \(error)", metadata: ["job": "\(spec.name)"])
            }
        }
        for child in made.runnable.map(\.id) {
            if started.contains(child) { advance.launched.append(child) } else { advance.queued.append(child) }
        }
        if !made.failed.isEmpty { advance.decided = try decideArray(parentID, current: nil, store: store, logger: logger) }
        return advance
    }

    /// After an array child has ended for good: counted on its parent (once), the parent
    /// advanced (its next children, or its decision), then every array waiting `N_TO_N` on the
    /// parent advanced too. An ending counted before (a repeated event, the sweep reading every
    /// ended instance) moves nothing: whoever counted it advanced the array, or the sweep's pass
    /// over RUNNING arrays will. Returns the parents this decided, whose own dependents are the
    /// caller's to resolve.
    public func childEnded(_ child: JobRecord, logger: Logger) throws(LaunchError) -> [JobRecord] {
        guard let place = child.arrayChild else { return [] }
        let store = try store()
        guard try aws({ () throws(AWSError) in try store.countChild(child) }) else { return [] }
        var decided: [JobRecord] = []
        let advance = try advanceArray(place.parent, logger: logger)
        if let parent = advance.decided { decided.append(parent) }
        for id in advance.parent?.dependents ?? [] {
            guard let waiting = try aws({ () throws(AWSError) in try store.record(id) }), waiting.state == .running,
                  waiting.array?.nToN.contains(place.parent) == true else { continue }
            if let other = try advanceArray(id, logger: logger).decided { decided.append(other) }
        }
        return decided
    }

    /// The parent's decision, once, with its metrics line and (FAILED) its announcement.
    private func decideArray(
        _ parentID: String, current: (record: JobRecord, progress: JobStore.ArrayProgress)?, store: JobStore, logger: Logger
    ) throws(LaunchError) -> JobRecord? {
        guard let decided = try aws({ () throws(AWSError) in try store.decideArray(parentID, current: current) }) else { return nil }
        let outcome: JobMetrics.Outcome = decided.state == .succeeded ? .succeeded : .failed
        logger.info("array \(parentID) \(decided.state.rawValue): \(decided.statusReason ?? "")", metadata: ["job": "\(decided.job)"])
        emit(JobMetrics.ending(decided, outcome: outcome, at: WallClock.unixMilliseconds()).rendered())
        if outcome == .failed, let spec = try? spec(for: decided) { announce(decided, spec, logger: logger) }
        return decided
    }
}
