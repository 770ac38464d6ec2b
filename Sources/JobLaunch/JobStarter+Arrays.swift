import AWSCore
import JobModel
import JobStore
import Logging
import WallTime

extension JobStarter {
    /// What advancing an array did.
    public struct ArrayAdvance: Sendable, Equatable {
        /// Children created and launched now, in index order.
        public var launched: [String] = []
        /// Children created and left waiting for a slot.
        public var queued: [String] = []
        /// Children created FAILED because what they wait for FAILED.
        public var failed: [String] = []
        /// The parent, when this advance decided it.
        public var decided: JobRecord?
    }

    /// Moves a RUNNING array on: decides it once every child has been counted; otherwise creates
    /// its next children (`JobStore.createChildren`, up to the spec's `max_concurrency` open at
    /// once) and starts or queues each as a new job is. The launcher calls it on submission,
    /// the reactor whenever a child ends and from its sweep: whoever comes, conditional writes
    /// make each child once.
    public func advanceArray(_ parentID: String, logger: Logger) throws(LaunchError) -> ArrayAdvance {
        let store = try store()
        var advance = ArrayAdvance()
        if let decided = try decideArray(parentID, store: store, logger: logger) {
            advance.decided = decided
            return advance
        }
        guard let parent = try aws({ () throws(AWSError) in try store.record(parentID) }), parent.state == .running, parent.array != nil else { return advance }
        let spec = try spec(for: parent)
        let made = try aws { () throws(AWSError) in try store.createChildren(parentID, window: JobArrays.window(maxConcurrency: spec.maxConcurrency)) }
        let now = WallClock.unixMilliseconds()
        for failed in made.failed {
            emit(JobMetrics.ending(failed, outcome: .failed, at: now).rendered())
            advance.failed.append(failed.id)
        }
        for child in made.runnable {
            // A child's launch failure is its own (recorded on it, counted on the parent): the others go on.
            do {
                if try startOrQueue(child, spec, store: store, logger: logger, duplicate: false).outcome == .launched {
                    advance.launched.append(child.id)
                } else {
                    advance.queued.append(child.id)
                }
            } catch {
                logger.error("array child \(child.id) not started: \(error)", metadata: ["job": "\(spec.name)"])
            }
        }
        if !made.failed.isEmpty { advance.decided = try decideArray(parentID, store: store, logger: logger) }
        return advance
    }

    /// After an array child has ended for good: counted on its parent (once), the parent
    /// advanced (its next children, or its decision), then every array waiting `N_TO_N` on the
    /// parent advanced too. Returns the parents this decided, whose own dependents are the
    /// caller's to resolve.
    public func childEnded(_ child: JobRecord, logger: Logger) throws(LaunchError) -> [JobRecord] {
        guard let place = child.arrayChild else { return [] }
        let store = try store()
        _ = try aws { () throws(AWSError) in try store.countChild(child) }
        var decided: [JobRecord] = []
        let advance = try advanceArray(place.parent, logger: logger)
        if let parent = advance.decided { decided.append(parent) }
        guard let parent = try aws({ () throws(AWSError) in try store.record(place.parent) }) else { return decided }
        for id in parent.dependents {
            guard let waiting = try aws({ () throws(AWSError) in try store.record(id) }), waiting.state == .running,
                  waiting.array?.nToN.contains(place.parent) == true else { continue }
            if let other = try advanceArray(id, logger: logger).decided { decided.append(other) }
        }
        return decided
    }

    /// The parent's decision, once, with its metrics line and (FAILED) its announcement.
    private func decideArray(_ parentID: String, store: JobStore, logger: Logger) throws(LaunchError) -> JobRecord? {
        guard let decided = try aws({ () throws(AWSError) in try store.decideArray(parentID) }) else { return nil }
        let outcome: JobMetrics.Outcome = decided.state == .succeeded ? .succeeded : .failed
        logger.info("array \(parentID) \(decided.state.rawValue): \(decided.statusReason ?? "")", metadata: ["job": "\(decided.job)"])
        emit(JobMetrics.ending(decided, outcome: outcome, at: WallClock.unixMilliseconds()).rendered())
        if outcome == .failed, let spec = try? spec(for: decided) { announce(decided, spec, logger: logger) }
        return decided
    }
}
