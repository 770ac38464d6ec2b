import AWSCore
import AWSServices
import Launcher
import Logging
import SortieModel

extension Reactor {
    /// Starts up to `limit` waiting jobs, walking the global queue in its order (priority, then
    /// submission) and skipping retries whose backoff has not passed and kinds found full on the
    /// way. The launcher's slot transaction decides what fits, so two reactors racing here
    /// cannot start more than the limits allow. Returns the started job ids in order.
    func startWaiting(upTo limit: Int, logger: Logger) throws(ReactorError) -> [String] {
        let store = try store()
        let now = JobStore.now()
        var started: [String] = []
        var full: Set<String> = []
        var page: DynamoDB.Item?
        var pages = 0
        repeat {
            let result = try aws { () throws(AWSError) in
                try store.dynamoDB.query(.init(
                    tableName: store.table, indexName: JobTable.globalQueueIndex, keyConditionExpression: "gsi2pk = :queue",
                    projectionExpression: "jobId, job, #notBefore", expressionAttributeNames: ["#notBefore": JobStore.Attribute.notBefore],
                    expressionAttributeValues: [":queue": .s(JobTable.globalQueue)], limit: 50, exclusiveStartKey: page))
            }
            for item in result.items where started.count < limit {
                guard let id = item["jobId"]?.string, let job = item["job"]?.string, !full.contains(job) else { continue }
                if let notBefore = item[JobStore.Attribute.notBefore]?.int, Int64(notBefore) > now { continue }
                switch launch(id, logger: logger) {
                case .launched: started.append(id)
                case .waiting: full.insert(job)
                case .duplicate, .pending, .failed, .dryRun, nil: continue
                }
            }
            page = result.lastEvaluatedKey
            pages += 1
        } while page != nil && started.count < limit && pages < 10
        return started
    }

    /// One start. Whatever stops it (a launch EC2 refused, which has already failed the job and
    /// freed its slot; a spec that is unpublished, unreadable or refused; an AWS error) is logged
    /// and the walk goes on: one bad job must not hold up every job queued behind it.
    private func launch(_ id: String, logger: Logger) -> LaunchResponse.Outcome? {
        do {
            return try launcher.start(jobID: id, logger: logger).outcome
        } catch {
            logger.error("job \(id) not started: \(error)", metadata: ["job_id": "\(id)"])
            return nil
        }
    }
}
