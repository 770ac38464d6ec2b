import AWSCore
import AWSServices
import JobModel
import JobStore
import Logging
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Starting a SUBMITTED or RUNNABLE job: a slot of its kind and a global one (`JobStore.start`),
/// then its EC2 instance; or its place in the queue when there is no slot. The launcher calls
/// it for the jobs it submits, the reactor for waiting jobs when a slot frees, so neither
/// handler needs the other.
public struct JobStarter: Sendable {
    public let configuration: LauncherConfiguration
    let ec2: EC2
    package let s3: S3
    let sns: SNS
    let dynamoDB: DynamoDB
    /// What runners report to: the configuration's table and logs, in the client's region.
    package let reporting: ReportingConfiguration?
    /// Writes a metrics line as-is (`Lambda.writeLogLine` in the functions): each job ending's `JobMetrics`.
    package let emit: @Sendable (String) -> Void

    /// On instances kept after their job (`no_shutdown`): the sweep decides their attempts
    /// without waiting for the instance to end.
    package static let keepTag = "sortie:keep"

    public init(configuration: LauncherConfiguration, client: AWSClient, emit: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.emit = emit
        reporting = configuration.reporting(region: client.configuration.region)
        ec2 = EC2(client: client)
        s3 = S3(client: client)
        sns = SNS(client: client)
        dynamoDB = DynamoDB(client: client)
    }

    /// Tries to start a SUBMITTED or RUNNABLE job: what the reactor calls when a slot frees.
    public func start(jobID: String, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let store = try store()
        guard let record = try aws({ () throws(AWSError) in try store.record(jobID) }) else {
            throw .aws(AWSError(kind: .invalidResponse, service: "DynamoDB", operation: "GetItem", code: "MissingJobRecord", message: "no job \(jobID)"))
        }
        guard record.state == .submitted || record.state == .runnable else { return LaunchResponse(.duplicate, record) }
        let published = try published(record)
        let spec: JobSpec
        do {
            spec = try published.applying(record.overrides)
        } catch {
            // Allowed when submitted, refused by the spec as published now: it can never start as
            // submitted, so it is decided here (FAILED, announced; its dependents follow in the sweep)
            // rather than left RUNNABLE for every walk of the queue to trip over.
            try decideFailed(record, published, reason: "Its overrides no longer fit the spec of \(record.job) as published now: \(error)", logger: logger) {
                (reason: String) throws(AWSError) in try store.cancelUnstarted(record.id, attempt: record.attempt, reason: reason)
            }
            throw .invalidOverrides(error)
        }
        return try startOrQueue(record, spec, store: store, logger: logger, duplicate: false)
    }

    /// The spec a job runs with: its overrides, allowed when it was submitted, applied to the spec as published now.
    package func spec(for record: JobRecord) throws(LaunchError) -> JobSpec {
        let published = try published(record)
        do {
            return try published.applying(record.overrides)
        } catch {
            throw .invalidOverrides(error)
        }
    }

    /// The job's spec as published now.
    private func published(_ record: JobRecord) throws(LaunchError) -> JobSpec {
        guard let source = configuration.specs, let published = try source.spec(named: record.job, s3: s3) else {
            throw .unknownJob(record.job, source: configuration.specs.map { "\($0)" } ?? "(SORTIE_SPECS not set)")
        }
        return published
    }

    // MARK: Steps of a launch

    package func startOrQueue(_ record: JobRecord, _ spec: JobSpec, store: JobStore, logger: Logger, duplicate: Bool) throws(LaunchError) -> LaunchResponse {
        let limits = (spec.maxConcurrency, configuration.globalLimit)
        // A new job queues behind older ones of its kind that are due: a slot that just freed
        // belongs to the head of the queue, not to whichever request asks first.
        let head = record.state == .submitted ? try aws({ () throws(AWSError) in try store.firstDue(job: record.job, now: WallClock.unixMilliseconds()) }) : nil
        if head == nil {
            switch try aws({ () throws(AWSError) in try store.start(record, maxConcurrency: limits.0, globalLimit: limits.1) }) {
            case .started(let starting):
                return try runInstance(starting, spec, store: store, logger: logger)
            case .moved(let current):
                return LaunchResponse(.duplicate, current ?? record)
            case .noSlot:
                break
            }
        }
        var waiting = record
        if record.state == .submitted {
            let reason = "Waiting for a slot: \(spec.name) allows \(spec.maxConcurrency) at once, the deployment \(configuration.globalLimit)"
            guard let queued = try aws({ () throws(AWSError) in try store.enqueue(record, reason: reason) }) else {
                let current = try aws({ () throws(AWSError) in try store.record(record.id) })
                return LaunchResponse(.duplicate, current ?? record)
            }
            waiting = queued
            // A slot freed between the first look and the enqueue: the head of the queue takes it
            // (this job, when no one was ahead). Done here too, so the queue moves even if the
            // reactor that freed the slot never gets to its walk (its sweep would, later).
            if let next = try aws({ () throws(AWSError) in try store.firstDue(job: record.job, now: WallClock.unixMilliseconds()) }),
               let nextRecord = next == queued.id ? queued : try aws({ () throws(AWSError) in try store.record(next) }), nextRecord.state == .runnable {
                switch try aws({ () throws(AWSError) in try store.start(nextRecord, maxConcurrency: limits.0, globalLimit: limits.1) }) {
                case .started(let starting) where next == queued.id:
                    return try runInstance(starting, spec, store: store, logger: logger)
                case .started(let starting):
                    // The older job's launch: its failure is its own (recorded on it), not this request's.
                    do { _ = try runInstance(starting, spec, store: store, logger: logger) } catch { logger.error("\(error)") }
                case .moved(let current):
                    if next == queued.id { return LaunchResponse(.duplicate, current ?? queued) }
                case .noSlot:
                    break
                }
            }
        }
        let position = try aws({ () throws(AWSError) in try store.queuePosition(waiting) })
        logger.info("job \(waiting.id) RUNNABLE at position \(position)", metadata: ["job": "\(spec.name)"])
        return LaunchResponse(duplicate ? .duplicate : .waiting, waiting, position: position)
    }

    /// The job holds its slots and is STARTING: request the instance, falling back along the
    /// listed types, subnets and markets on capacity errors (`InstanceRequest.placements`). Any
    /// other failure marks the job FAILED and frees the slots.
    private func runInstance(_ record: JobRecord, _ spec: JobSpec, store: JobStore, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let script = try userData(record, spec)
        var refusals: [String] = []
        for placement in InstanceRequest.placements(spec.instance) {
            let type = spec.instance.types[placement.type]
            let subnet = spec.instance.placements[placement.subnet]
            do throws(AWSError) {
                let output = try ec2.runInstances(InstanceRequest.input(spec, record, placement, userData: script))
                guard let instance = output.instances.first else {
                    throw AWSError(kind: .invalidResponse, service: "EC2", operation: "RunInstances", code: "NoInstance", message: "RunInstances answered without an instance")
                }
                try store.launched(
                    record.id, attempt: record.attempt, instanceID: instance.instanceId, instanceType: type, market: placement.market, subnet: subnet,
                    availabilityZone: instance.availabilityZone, shortSince: record.capacityShortSince)
                logger.info("job \(record.id) STARTING on \(instance.instanceId) (\(describe(placement, in: spec)))", metadata: ["job": "\(spec.name)"])
                var started = record
                started.instanceID = instance.instanceId
                started.instanceType = type
                started.market = placement.market
                started.subnet = subnet
                started.availabilityZone = instance.availabilityZone
                return LaunchResponse(.launched, started)
            } catch where InstanceRequest.capacityCodes.contains(error.code) {
                logger.warning("no capacity for \(describe(placement, in: spec)): \(error.code)", metadata: ["job": "\(spec.name)", "job_id": "\(record.id)"])
                refusals.append("\(describe(placement, in: spec)): \(error.code)")
            } catch where error.code == InstanceRequest.spotRoleCode {
                try fail(record, spec, reason: LaunchError.spotRoleExplanation, store: store, logger: logger)
                throw .spotRoleMissing(jobID: record.id, error)
            } catch {
                try fail(record, spec, reason: "RunInstances failed: \(error.code): \(error.message)", store: store, logger: logger)
                throw .launchFailed(jobID: record.id, error)
            }
        }
        let detail = refusals.joined(separator: ", ")
        if let waiting = try awaitCapacity(record, spec, detail: detail, store: store, logger: logger) { return waiting }
        try fail(record, spec, reason: "No capacity for any instance type for \(spec.capacityTimeoutSeconds)s (\(detail))", store: store, logger: logger)
        throw .noCapacity(jobID: record.id, detail)
    }

    /// `c7i.large`, `c7i.large in subnet-b spot`: as much as tells one placement from the spec's others.
    private func describe(_ placement: InstanceRequest.Placement, in spec: JobSpec) -> String {
        var text = spec.instance.types[placement.type]
        if spec.instance.subnets.count > 1, let subnet = spec.instance.placements[placement.subnet] { text += " in \(subnet)" }
        if spec.instance.markets.count > 1 || placement.market == .spot { text += " \(placement.market.rawValue)" }
        return text
    }

    func fail(_ record: JobRecord, _ spec: JobSpec, reason: String, store: JobStore, logger: Logger) throws(LaunchError) {
        // No instance was started, so no reactor will decide it: decided here, never retried.
        try decideFailed(record, spec, reason: reason, logger: logger) { (reason: String) throws(AWSError) in try store.failUnlaunched(record, reason: reason) }
    }

    /// A job decided FAILED without an instance: `move` writes it (false when another writer moved
    /// it first); then its metrics, the spec's notification and its array.
    private func decideFailed(
        _ record: JobRecord, _ spec: JobSpec, reason: String, logger: Logger, move: (String) throws(AWSError) -> Bool
    ) throws(LaunchError) {
        let moved = try aws({ () throws(AWSError) in try move(reason) })
        logger.error("job \(record.id) FAILED: \(reason)", metadata: ["job": "\(record.job)"])
        guard moved else { return }
        var failed = record
        failed.state = .failed
        failed.statusReason = reason
        emit(JobMetrics.ending(record, outcome: .failed, at: WallClock.unixMilliseconds()).rendered())
        announce(failed, spec, logger: logger)
        if failed.arrayChild != nil { _ = try childEnded(failed, logger: logger) }
    }

    /// Tells the spec's `notify` topic about a job FAILED for good; a lost notification is logged, not raised.
    package func announce(_ failed: JobRecord, _ spec: JobSpec, logger: Logger) {
        // An array's parent is announced, not each of its (up to 10,000) children.
        guard let topic = spec.notify, failed.arrayChild == nil else { return }
        do {
            try JobNotification.publish(failed, topic: topic, sns: sns)
        } catch {
            logger.warning("could not notify \(topic): \(error)")
        }
    }

    package func userData(_ record: JobRecord, _ spec: JobSpec) throws(LaunchError) -> String {
        guard let reporting, let runnerURL = configuration.runnerURL else {
            throw .configuration("not set: \(configuration.missing.joined(separator: ", "))")
        }
        let payload = RunnerPayload(
            jobID: record.id, attempt: record.attempt, arguments: record.parameters, spec: spec, reporting: reporting, arrayChild: record.arrayChild)
        do {
            return try UserData.render(payload, runnerURL: runnerURL)
        } catch let error as UserDataTooLarge {
            throw .userDataTooLarge(error)
        } catch {
            throw .configuration("cannot encode the runner's payload: \(error)")
        }
    }

    package func store() throws(LaunchError) -> JobStore {
        guard let table = configuration.table else { throw .configuration("SORTIE_TABLE is not set") }
        return JobStore(dynamoDB: dynamoDB, table: table)
    }

    package func aws<T>(_ body: () throws(AWSError) -> T) throws(LaunchError) -> T {
        do {
            return try body()
        } catch {
            throw .aws(error)
        }
    }
}
