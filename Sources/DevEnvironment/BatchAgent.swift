import AWSCore
import AWSServices
import ChildProcesses
import Foundation
import LocalAWS
import Logging
import Synchronization

/// Plays AWS Batch for `sortie dev`: it notices the jobs submitted to one job queue in moto and runs
/// each one's container as Batch would, once per array child and at most `concurrency` at a time:
/// the command (the job definition's, its `Ref::` placeholders filled from the job's parameters)
/// with its first word found among the built products, the job definition's environment, moto's
/// endpoint and credentials for the job role, and `AWS_BATCH_JOB_ID`, `AWS_BATCH_JOB_ARRAY_INDEX`.
///
/// moto runs no container: configured as `sortie dev` has it (`batch.use_docker: false`) it marks
/// each job and array child SUCCEEDED as it is submitted (in Docker mode without Docker, FAILED
/// within milliseconds, an array's parent left SUBMITTED). So the agent never reads a job's status:
/// it runs every job it has not run yet, and keeps how each container exited itself
/// (`exitStatuses`). What the containers did is in the job table, which they write.
public final class BatchAgent: Sendable {
    /// One container: a single job, or one child of an array job.
    public struct Container: Sendable, Hashable {
        public var jobId: String
        public var arrayIndex: Int?
        /// As Batch names an array child: `<job id>:<index>`.
        public var id: String { arrayIndex.map { "\(jobId):\($0)" } ?? jobId }
    }

    private struct Pending: Sendable {
        var container: Container
        var executable: String
        var arguments: [String]
        var environment: [String: String]
    }

    private struct Tracked {
        /// Jobs (not children) already read and queued: each runs once however often it is listed.
        var seen: Set<String> = []
        var waiting: [Pending] = []
        var running: [String: ChildProcess] = [:]
        var exits: [String: Int32] = [:]
        var stopped = false
    }

    private let batch: Batch
    private let queue: String
    private let products: URL
    private let environment: [String: String]
    private let workspace: URL
    private let concurrency: Int
    private let logger: Logger
    private let state = Mutex(Tracked())
    private let poller = Poller()

    /// `products`: where a command's program is found (`.build/debug`, or the packaged bootstraps).
    /// `environment`: moto's region and endpoint, and the job role's credentials.
    /// `workspace`: each container's working folder and output, `<job id>/<index>.log`.
    public init(
        client: AWSClient, queue: String, products: URL, environment: [String: String], workspace: URL, concurrency: Int = 2, logger: Logger
    ) {
        self.batch = Batch(client: client)
        self.queue = queue
        self.products = products
        self.environment = environment
        self.workspace = workspace
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    /// Polls the queue every `interval` until `stop()`.
    public func start(interval: Duration = .milliseconds(200)) {
        poller.start(every: interval, logger: logger, label: "batch agent") { [self] in try await poll() }
    }

    /// Stops polling, drops what waits and stops the containers still running (SIGTERM, as `docker stop`).
    public func stop() {
        poller.stop()
        let running = state.withLock { tracked in
            tracked.stopped = true
            tracked.waiting.removeAll()
            return Array(tracked.running.values)
        }
        for process in running { process.signal(SIGTERM) }
    }

    /// How each container that ran exited, by `Container.id` (127 when it could not be started).
    public var exitStatuses: [String: Int32] { state.withLock { $0.exits } }

    func poll() async throws {
        let (batch, queue) = (batch, queue)
        // moto lists every job of the queue whatever its status, array children (`<job>:<index>`) too.
        let listed = try await blocking { () throws -> [String] in
            var ids: [String] = []
            var token: String?
            repeat {
                let page = try batch.listJobs(queue: queue, nextToken: token)
                ids += page.jobSummaryList.map(\.jobId)
                token = page.nextToken
            } while token != nil
            return ids
        }
        let new = state.withLock { tracked in listed.filter { !$0.contains(":") && !tracked.seen.contains($0) } }
        guard !new.isEmpty else { return }
        let jobs = try await blocking { () throws -> [Batch.JobDetail] in
            try stride(from: 0, to: new.count, by: 100).flatMap { try batch.describeJobs(Array(new[$0..<min($0 + 100, new.count)])) }
        }
        for job in jobs { enqueue(job) }
        launchWaiting()
    }

    /// Queues the job's containers: one, or one per array child.
    private func enqueue(_ job: Batch.JobDetail) {
        let command = Batch.resolve(command: job.container?.command ?? [], parameters: job.parameters ?? [:])
        let children: [Int?] = job.arrayProperties?.size.map { Array(0..<$0) } ?? [nil]
        var base = Dictionary((job.container?.environment ?? []).map { ($0.name, $0.value) }) { $1 }.merging(environment) { $1 }
        base["AWS_BATCH_JQ_NAME"] = queue
        base["AWS_BATCH_JOB_ATTEMPT"] = "1"
        let pending = children.map { index in
            let container = Container(jobId: job.jobId, arrayIndex: index)
            var environment = base
            environment["AWS_BATCH_JOB_ID"] = container.id
            if let index, let size = job.arrayProperties?.size {
                environment["AWS_BATCH_JOB_ARRAY_INDEX"] = String(index)
                environment["AWS_BATCH_JOB_ARRAY_SIZE"] = String(size)
            }
            // The image's program is the product of that name built here.
            let program = command.first.flatMap { $0.contains("/") ? nil : $0 } ?? ""
            return Pending(
                container: container, executable: products.appendingPathComponent(program).path, arguments: Array(command.dropFirst()),
                environment: environment)
        }
        let queued = state.withLock { tracked in
            guard !tracked.stopped, tracked.seen.insert(job.jobId).inserted else { return false }
            tracked.waiting += pending
            return true
        }
        if queued {
            logger.info("batch job \(job.jobId) (\(job.jobName)): \(pending.count) container(s) of \(command.first ?? "no command")")
        }
    }

    /// Starts waiting containers while fewer than `concurrency` run.
    private func launchWaiting() {
        state.withLock { tracked in
            while !tracked.stopped, tracked.running.count < concurrency, !tracked.waiting.isEmpty {
                let next = tracked.waiting.removeFirst()
                let id = next.container.id
                let folder = workspace.appendingPathComponent(next.container.jobId)
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    // Spawned under the lock, so even an instant exit finds the container recorded as running.
                    tracked.running[id] = try ChildProcess.spawn(
                        executable: next.executable, arguments: next.arguments, environment: next.environment, workingDirectory: folder.path,
                        output: .file(folder.appendingPathComponent("\(next.container.arrayIndex ?? 0).log").path)
                    ) { [self] status in
                        ended(next.container, status: status)
                    }
                } catch {
                    logger.warning("batch container \(id) could not start: \(error)")
                    tracked.exits[id] = 127
                }
            }
        }
    }

    private func ended(_ container: Container, status: Int32) {
        state.withLock { tracked in
            tracked.running[container.id] = nil
            tracked.exits[container.id] = status
        }
        if status == 0 {
            logger.info("batch container \(container.id) succeeded")
        } else {
            logger.warning("batch container \(container.id) exited with status \(status): see \(container.jobId)/\(container.arrayIndex ?? 0).log")
        }
        launchWaiting()
    }
}
