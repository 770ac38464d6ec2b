import AWSCore
import AWSServices
import JobLaunch
import JobModel
import JobStore
import Logging

extension Reactor {
    /// Moves an array on (`JobStarter.advanceArray`); a parent this decides has its dependents resolved.
    @discardableResult
    func advance(_ parentID: String, logger: Logger) throws(ReactorError) -> [JobStore.Resolution] {
        let advance: JobStarter.ArrayAdvance
        do {
            advance = try starter.advanceArray(parentID, logger: logger)
        } catch {
            throw .launch(error)
        }
        guard let decided = advance.decided else { return [] }
        return try resolveDependents(of: decided.id, logger: logger)
    }

    /// The sweep's pass over RUNNING arrays, for endings whose count was missed (a crash between
    /// deciding a child and counting it, a child cancelled from the command line): each open
    /// child that has ended is counted, then the array advanced. Up to `sweepArrayPages` pages;
    /// an array whose step fails is logged and left for the next sweep.
    func sweepArrays(logger: Logger) throws(ReactorError) -> [JobStore.Resolution] {
        let store = try store()
        var moved: [JobStore.Resolution] = []
        var start: DynamoDB.Item?
        var pages = 0
        repeat {
            let page = try aws { () throws(AWSError) in try store.activeArrays(limit: 25, after: start) }
            for id in page.ids {
                do {
                    guard let (_, progress) = try aws({ () throws(AWSError) in try store.array(id) }) else { continue }
                    for index in progress.open {
                        let child = JobArrays.childID(id, index)
                        if let (record, finished) = try aws({ () throws(AWSError) in try store.outcome(child) }), finished {
                            _ = try aws { () throws(AWSError) in try store.countChild(record) }
                        }
                    }
                    moved += try advance(id, logger: logger)
                } catch {
                    logger.error("array \(id) not advanced: \(error)", metadata: ["job_id": "\(id)"])
                }
            }
            start = page.next
            pages += 1
        } while start != nil && pages < Self.sweepArrayPages
        return moved
    }

    /// At most this many pages of 25 RUNNING arrays are looked at per sweep.
    static let sweepArrayPages = 8
}
