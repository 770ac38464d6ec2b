import AWSCore
import AWSServices
import JobLaunch
import Logging
import JobModel
import JobStore
import WallTime

extension Reactor {
    /// Starts up to `limit` waiting jobs, walking the global queue in its order (priority, then
    /// submission) and skipping retries whose backoff has not passed and kinds found full on the
    /// way. `JobStore.start`'s slot transaction decides what fits, so two reactors racing here
    /// cannot start more than the limits allow. Returns the started job ids in order, and when the
    /// longest-waiting job it read and left waiting entered the queue (for the sweep's metric).
    func startWaiting(upTo limit: Int, logger: Logger) throws(ReactorError) -> (started: [String], oldestLeftSince: Int64?, leftWaiting: Int) {
        let store = try store()
        let now = WallClock.unixMilliseconds()
        var started: [String] = []
        var oldest: Int64?
        var leftWaitingCount = 0
        var full: Set<String> = []
        var page: DynamoDB.Item?
        var pages = 0
        repeat {
            let result = try aws { () throws(AWSError) in try store.queued(limit: 50, after: page) }
            for queued in result.jobs {
                var leftWaiting = true
                if started.count < limit, !full.contains(queued.job), queued.notBefore.map({ $0 <= now }) ?? true {
                    switch launch(queued.id, logger: logger) {
                    case .launched: started.append(queued.id); leftWaiting = false
                    case .waiting: full.insert(queued.job)
                    case .duplicate, .pending, .failed, .dryRun: leftWaiting = false
                    case nil: break  // not started this time: still waiting
                    }
                }
                if leftWaiting {
                    leftWaitingCount += 1
                    if let since = queued.updatedAt { oldest = min(oldest ?? since, since) }
                }
            }
            page = result.next
            pages += 1
        } while page != nil && started.count < limit && pages < 10
        return (started, oldest, leftWaitingCount)
    }

    /// One start. Whatever stops it (a launch EC2 refused, which has already failed the job and
    /// freed its slot; a spec that is unpublished, unreadable or refused; an AWS error) is logged
    /// and the walk goes on: one bad job must not hold up every job queued behind it.
    private func launch(_ id: String, logger: Logger) -> LaunchResponse.Outcome? {
        do {
            return try starter.start(jobID: id, logger: logger).outcome
        } catch {
            logger.error("job \(id) not started: \(error)", metadata: ["job_id": "\(id)"])
            return nil
        }
    }
}
