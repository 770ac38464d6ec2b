import AWSCore
import AWSServices
import Logging
import JobModel
import JobStore

extension Reactor {
    /// After job `id` has ended for good: its PENDING dependents are released or failed (and
    /// theirs, when they fail), each failure announced. Read afresh, so a dependent recorded
    /// while this job was being decided is not missed.
    /// An array child's ending is also counted on its parent, which moves on (`childEnded`), unless
    /// `countingChild` is false (a repeated delivery: the sweep reads every ended instance each
    /// time); a parent that this decides has its own dependents resolved in turn.
    func resolveDependents(of id: String, countingChild: Bool = true, logger: Logger) throws(ReactorError) -> [JobStore.Resolution] {
        let store = try store()
        var moved = try aws { () throws(AWSError) in try store.resolveDependents(of: id) }
        try report(moved, logger: logger)
        if countingChild, JobArrays.mayBeChild(id), let child = try aws({ () throws(AWSError) in try store.record(id) }), child.arrayChild != nil {
            let decided: [JobRecord]
            do {
                decided = try starter.childEnded(child, logger: logger)
            } catch {
                throw .launch(error)
            }
            for parent in decided { moved += try resolveDependents(of: parent.id, logger: logger) }
        }
        return moved
    }

    /// The sweep's pass over PENDING jobs, for endings whose resolution was missed (a crash
    /// between deciding a job and resolving its dependents, a cancel from the command line):
    /// up to `sweepPendingPages` pages, each dependency read once per sweep once it has ended.
    /// What moved, and how many PENDING jobs still wait (of the pages read).
    func resolvePending(logger: Logger) throws(ReactorError) -> (moved: [JobStore.Resolution], stillWaiting: Int) {
        let store = try store()
        var known: [String: JobDependencies.Standing] = [:]
        var moved: [JobStore.Resolution] = []
        var stillWaiting = 0
        var start: DynamoDB.Item?
        var pages = 0
        repeat {
            let page = try aws { () throws(AWSError) in try store.pending(limit: 100, after: start) }
            for id in page.ids {
                let resolution = try aws { () throws(AWSError) in try store.resolve(id, known: &known) }
                switch resolution {
                case .released:
                    moved.append(resolution)
                case .failed:
                    moved.append(resolution)
                    moved += try aws { () throws(AWSError) in try store.resolveDependents(of: id) }
                case .waiting, .unchanged:
                    stillWaiting += 1
                }
            }
            start = page.next
            pages += 1
        } while start != nil && pages < Self.sweepPendingPages
        try report(moved, logger: logger)
        return (moved, stillWaiting)
    }

    /// At most this many pages of 100 PENDING jobs are looked at per sweep.
    static let sweepPendingPages = 20

    private func report(_ moved: [JobStore.Resolution], logger: Logger) throws(ReactorError) {
        for resolution in moved {
            switch resolution {
            case .released(let record):
                logger.info("job \(record.id) \(record.state.rawValue): \(record.statusReason ?? "")", metadata: ["job": "\(record.job)"])
                if record.array != nil { try advance(record.id, logger: logger) }
            case .failed(let record):
                logger.warning("job \(record.id) FAILED: \(record.statusReason ?? "")", metadata: ["job": "\(record.job)"])
                emitEnding(record, .failed)
                try notify(record, log: nil, logger: logger)
            case .waiting, .unchanged:
                break
            }
        }
    }
}

extension [JobStore.Resolution] {
    /// The ids released to RUNNABLE, and those FAILED by a dependency, in order.
    var released: [String] { compactMap { if case .released(let record) = $0 { record.id } else { nil } } }
    var failed: [String] { compactMap { if case .failed(let record) = $0 { record.id } else { nil } } }
}
