import AWSCore
import AWSServices
import ChunkStore
import JobCost
import JobLaunch
import JobModel
import JobStore

extension JobReport {
    /// The deployment a report is read from: its table, and where its specs are published.
    public struct Source: Sendable {
        public var client: AWSClient
        public var table: String
        /// Where `sortie publish` put the specs (`SORTIE_SPECS`); nil: the page shows no limits.
        public var specs: SpecSource?
        /// Prices found before are kept in the table, so a page refreshed every few seconds asks AWS once per price.
        public var prices: PriceBook

        public init(client: AWSClient, table: String, specs: SpecSource?) {
            self.client = client
            self.table = table
            self.specs = specs
            prices = PriceBook(client: client, table: table)
        }
    }

    /// Reads everything the page shows: the jobs active since `since` with their attempts, the
    /// instances kept after their jobs, each job name's `max_concurrency`, the files created
    /// since `since` with their chunks, and what each attempt cost. Scans: for operators, not for handlers.
    public static func gather(from source: Source, since: Int64, now: Int64) throws(AWSError) -> JobReport {
        let stored = try JobStore(dynamoDB: DynamoDB(client: source.client), table: source.table).storedJobs(activeSince: since)
        let kept = try keptInstances(EC2(client: source.client))
        let jobs = stored.map { Job($0, kept: kept, cost: JobCost($0, prices: source.prices, now: now)) }
        var limits: [String: Int] = [:]
        if let specs = source.specs {
            let s3 = S3(client: source.client)
            for name in Set(jobs.map(\.name)) {
                // A spec that is gone or unreadable leaves its limit unknown, not the report unwritten.
                if let spec = try? specs.spec(named: name, s3: s3) { limits[name] = spec.maxConcurrency }
            }
        }
        let fileStore = FileStore(dynamoDB: DynamoDB(client: source.client), tableName: source.table)
        var files: [File] = []
        for progress in try fileStore.listFiles(state: nil, since: since).reversed() {
            // Every chunk, page by page: the routes' counts are per chunk (the file's counters are not by route).
            files.append(File(progress, chunks: try fileStore.chunks(fileID: progress.file.fileID)))
        }
        return JobReport(generatedAt: now, since: since, region: source.client.configuration.region, limits: limits, jobs: jobs, files: files)
    }

    /// The EC2 state of every instance kept after its job (`no_shutdown`) that is still there, by instance id.
    static func keptInstances(_ ec2: EC2) throws(AWSError) -> [String: String] {
        var kept: [String: String] = [:]
        var token: String?
        repeat {
            let page = try ec2.describeInstances(
                filters: [
                    .init(name: "tag-key", values: [JobStarter.keepTag]),
                    .init(name: "instance-state-name", values: ["pending", "running", "stopping", "stopped"]),
                ], nextToken: token)
            for instance in page.instances { kept[instance.instanceId] = instance.state?.name ?? "unknown" }
            token = page.nextToken
        } while token != nil
        return kept
    }
}

extension JobReport.File {
    /// A file's progress and chunks as the page draws them: counts by route, and each failed chunk.
    public init(_ progress: FileProgress, chunks: [(chunk: ChunkRecord, attempts: ChunkAttempts)]) {
        var routes: [String: JobReport.Route] = [:]
        var failures: [JobReport.ChunkFailure] = []
        for (chunk, attempts) in chunks {
            let name = chunk.route.rawValue
            var route = routes[name] ?? JobReport.Route(route: name)
            route.chunks += 1
            route.records += chunk.spec.recordCount
            route.delivered += chunk.counts?.delivered ?? 0
            route.rejected += chunk.counts?.rejected ?? 0
            switch chunk.state {
            case .done: route.done += 1
            case .failed:
                route.failed += 1
                failures.append(JobReport.ChunkFailure(
                    index: chunk.spec.index, route: name, reason: chunk.reason ?? "unknown", attempts: attempts.attempts,
                    ranBy: chunk.batchJobID.map { "Batch job \($0)\(chunk.batchArrayIndex.map { ":\($0)" } ?? "")" } ?? attempts.owner.map { "Lambda request \($0)" }))
            default: break
            }
            routes[name] = route
        }
        let file = progress.file
        self.init(
            id: file.fileID, object: "s3://\(file.object.bucket)/\(file.object.key)", feed: file.feed, state: file.state.rawValue,
            createdAt: file.createdAt, completedAt: progress.completedAt, records: file.plan.records, reason: progress.failedReason,
            routes: routes.values.sorted { $0.route < $1.route }, failures: failures)
    }
}
