import AWSCore
import AWSServices
import ChildProcesses
import Deployment
import Foundation
import LocalAWS
import Logging
import Synchronization

/// Plays AWS Batch for `sortie dev`: it notices the jobs submitted to the chunk worker's job queue in
/// moto and runs each one's container as Batch would, once per array child and at most
/// `concurrency` at a time, from the job definition the template deploys (`ChunkJobDefinition`):
/// its program (the image's entrypoint) found among the built products, its command with the
/// `Ref::` placeholders filled from the job's parameters, its environment with moto's endpoint and
/// credentials standing in for the job role, and `AWS_BATCH_JOB_ID`, `AWS_BATCH_JOB_ARRAY_INDEX`,
/// `AWS_BATCH_JOB_ATTEMPT`. The job's own retry strategy and timeout (SubmitJob's), else the
/// definition's, apply as in Batch: an attempt that outlives the timeout is stopped (SIGTERM, then
/// SIGKILL after `stopGrace`, as ECS stops a task) and not retried; one that exits non-zero is tried
/// again while attempts remain, unless the first `evaluateOnExit` entry it matches says `EXIT`.
///
/// moto runs no container: configured as `sortie dev` has it (`batch.use_docker: false`) it marks
/// each job and array child SUCCEEDED as it is submitted (in Docker mode without Docker, FAILED
/// within milliseconds, an array's parent left SUBMITTED). So the agent never reads a job's status:
/// it runs every job it has not run yet, and keeps how each container exited itself
/// (`exitStatuses`). What the containers did is in the job table, which they write.
public final class BatchAgent: Sendable {
    /// One container: a single job, or one child of an array job.
    public struct Container: Sendable, Hashable {
        public var jobID: String
        public var arrayIndex: Int?
        /// As Batch names an array child: `<job id>:<index>`.
        public var id: String { arrayIndex.map { "\(jobID):\($0)" } ?? jobID }
    }

    private struct Pending: Sendable {
        var container: Container
        var arguments: [String]
        var environment: [String: String]
        var retryStrategy: Batch.RetryStrategy
        var timeout: Batch.JobTimeout?
        var attempt = 1
    }

    private struct Tracked {
        /// Jobs (not children) already read and queued: each runs once however often it is listed.
        var seen: Set<String> = []
        var waiting: [Pending] = []
        var running: [String: ChildProcess] = [:]
        var exits: [String: Int32] = [:]
        var attempts: [String: Int] = [:]
        /// Containers stopped for outliving their attempt's duration.
        var timedOut: Set<String> = []
        var stopped = false
    }

    private let batch: Batch
    private let definition: ChunkJobDefinition
    private let products: URL
    private let environment: [String: String]
    private let workspace: URL
    private let concurrency: Int
    private let stopGrace: Duration
    private let logger: Logger
    private let state = Mutex(Tracked())
    private let poller = Poller()

    /// `definition`: the job definition and queue, as the template has them. `products`: where its
    /// program is found (`.build/debug`, or the packaged bootstraps). `environment`: moto's region
    /// and endpoint, and the job role's credentials. `workspace`: each container's working folder
    /// and output, `<job id>/<index>.log` (`.<attempt>.log` for a retried attempt).
    public init(
        client: AWSClient, definition: ChunkJobDefinition, products: URL, environment: [String: String], workspace: URL, concurrency: Int = 2,
        stopGrace: Duration = .seconds(30), logger: Logger
    ) {
        self.batch = Batch(client: client)
        self.definition = definition
        self.products = products
        self.environment = environment
        self.workspace = workspace
        self.concurrency = max(1, concurrency)
        self.stopGrace = stopGrace
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

    /// How each container's last attempt exited, by `Container.id` (127 when it could not be
    /// started), once no attempt of it is waiting or running.
    public var exitStatuses: [String: Int32] {
        state.withLock { tracked in
            let open = Set(tracked.waiting.map(\.container.id)).union(tracked.running.keys)
            return tracked.exits.filter { !open.contains($0.key) }
        }
    }

    /// How many attempts each container has had, by `Container.id`.
    public var attempts: [String: Int] { state.withLock { $0.attempts } }

    func poll() async throws {
        let (batch, queue) = (batch, definition.queue)
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
        let command = Batch.resolve(command: definition.command, parameters: job.parameters ?? [:])
        let children: [Int?] = job.arrayProperties?.size.map { Array(0..<$0) } ?? [nil]
        var base = definition.environment(deployed: false).merging(environment) { $1 }
        // The job's own variables (SubmitJob's containerOverrides) over the definition's, as in Batch.
        for variable in job.container?.environment ?? [] { base[variable.name] = variable.value }
        base["AWS_BATCH_JQ_NAME"] = definition.queue
        let pending = children.map { index in
            let container = Container(jobID: job.jobId, arrayIndex: index)
            var environment = base
            environment["AWS_BATCH_JOB_ID"] = container.id
            if let index, let size = job.arrayProperties?.size {
                environment["AWS_BATCH_JOB_ARRAY_INDEX"] = String(index)
                environment["AWS_BATCH_JOB_ARRAY_SIZE"] = String(size)
            }
            return Pending(
                container: container, arguments: command, environment: environment,
                retryStrategy: job.retryStrategy ?? definition.retryStrategy, timeout: job.timeout ?? definition.timeout)
        }
        let queued = state.withLock { tracked in
            guard !tracked.stopped, tracked.seen.insert(job.jobId).inserted else { return false }
            tracked.waiting += pending
            return true
        }
        if queued {
            logger.info("batch job \(job.jobId) (\(job.jobName)): \(pending.count) container(s) of \(definition.program)")
        }
    }

    /// Starts waiting containers while fewer than `concurrency` run.
    private func launchWaiting() {
        let executable = products.appendingPathComponent(definition.program).path
        state.withLock { tracked in
            while !tracked.stopped, tracked.running.count < concurrency, !tracked.waiting.isEmpty {
                let next = tracked.waiting.removeFirst()
                let id = next.container.id
                let folder = workspace.appendingPathComponent(next.container.jobID)
                let log = "\(next.container.arrayIndex ?? 0)" + (next.attempt > 1 ? ".\(next.attempt)" : "") + ".log"
                var environment = next.environment
                environment["AWS_BATCH_JOB_ATTEMPT"] = String(next.attempt)
                tracked.attempts[id] = next.attempt
                do {
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    // Spawned under the lock, so even an instant exit finds the container recorded as running.
                    let process = try ChildProcess.spawn(
                        executable: executable, arguments: next.arguments, environment: environment, workingDirectory: folder.path,
                        output: .file(folder.appendingPathComponent(log).path)
                    ) { [self] status in
                        ended(next, status: status)
                    }
                    tracked.running[id] = process
                    if let timeout = next.timeout { watch(process, id: id, after: .seconds(timeout.attemptDurationSeconds)) }
                } catch {
                    logger.warning("batch container \(id) could not start: \(error)")
                    tracked.exits[id] = 127
                }
            }
        }
    }

    /// Stops an attempt that outlives its duration as Batch does.
    private func watch(_ process: ChildProcess, id: String, after duration: Duration) {
        Task { [self] in
            try await Task.sleep(for: duration)
            guard state.withLock({ tracked in
                guard tracked.running[id] === process else { return false }
                tracked.timedOut.insert(id)
                return true
            }) else { return }
            logger.warning("batch container \(id): attempt duration exceeded timeout (\(duration)), stopping it")
            process.signal(SIGTERM)
            try await Task.sleep(for: stopGrace)
            if state.withLock({ $0.running[id] === process }) { process.signal(SIGKILL) }
        }
    }

    private func ended(_ finished: Pending, status: Int32) {
        let container = finished.container
        let retry: Pending? = state.withLock { tracked in
            tracked.running[container.id] = nil
            tracked.exits[container.id] = status
            let timedOut = tracked.timedOut.remove(container.id) != nil
            guard status != 0, !timedOut, !tracked.stopped, Self.retries(finished.retryStrategy, exitCode: status, attempt: finished.attempt) else { return nil }
            var again = finished
            again.attempt += 1
            tracked.waiting.append(again)
            return again
        }
        if status == 0 {
            logger.info("batch container \(container.id) succeeded")
        } else if let retry {
            logger.warning("batch container \(container.id) exited with status \(status): attempt \(retry.attempt) of \(retry.retryStrategy.attempts ?? 1) follows")
        } else {
            logger.warning("batch container \(container.id) exited with status \(status): see \(container.jobID)/\(container.arrayIndex ?? 0).log")
        }
        launchWaiting()
    }

    /// Whether Batch tries a container again after attempt `attempt` exited with `exitCode`: while
    /// attempts remain, unless the first `evaluateOnExit` entry that matches says `EXIT` (none
    /// matching means retry). Here a container exits on its own, so its status reason is ECS's
    /// "Essential container in task exited" and it has no reason.
    static func retries(_ strategy: Batch.RetryStrategy, exitCode: Int32, attempt: Int) -> Bool {
        guard attempt < (strategy.attempts ?? 1) else { return false }
        let statusReason = "Essential container in task exited"
        let rule = (strategy.evaluateOnExit ?? []).first { rule in
            (rule.onExitCode.map { matches($0, String(exitCode)) } ?? true)
                && (rule.onStatusReason.map { matches($0, statusReason) } ?? true)
                && (rule.onReason.map { matches($0, "") } ?? true)
        }
        return rule?.action.uppercased() != "EXIT"
    }

    /// Batch's patterns: the text itself, or a prefix ending in `*`.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        pattern.hasSuffix("*") ? text.hasPrefix(pattern.dropLast()) : pattern == text
    }
}
