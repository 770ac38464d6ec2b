import AWSCore
import AWSServices
import Logging
import SortieModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Turns launch requests into EC2 instances: at most once per event, within each kind's
/// `max_concurrency` and the global limit, queueing (never dropping) what does not fit.
/// The reactor calls `start(jobID:)` for each due waiting job when a slot frees.
public struct Launcher: Sendable {
    public let configuration: LauncherConfiguration
    let ec2: EC2
    let s3: S3
    let sns: SNS
    let dynamoDB: DynamoDB

    public init(configuration: LauncherConfiguration, client: AWSClient) {
        self.configuration = configuration
        ec2 = EC2(client: client)
        s3 = S3(client: client)
        sns = SNS(client: client)
        dynamoDB = DynamoDB(client: client)
    }

    /// `requestID` deduplicates manual events that carry no `id` (Lambda keeps it across its retries).
    public func launch(_ event: LaunchEvent, requestID: String, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let spec = try spec(for: event)
        let arguments: [String: String]
        do {
            arguments = try spec.resolveArguments(event.arguments)
        } catch {
            throw .invalidArguments(error)
        }
        if event.dryRun { return try plan(spec, arguments) }
        guard configuration.missing.isEmpty else {
            throw .configuration("not set: \(configuration.missing.joined(separator: ", "))")
        }
        let store = try store()
        let eventID = event.eventID ?? "request:\(requestID)"
        if case .schedule = event.trigger, !spec.dependsOn.isEmpty {
            return try launchChain(spec, arguments: arguments, event: event, eventID: eventID, store: store, logger: logger)
        }
        return try submit(
            spec, arguments: arguments, eventID: eventID, dependsOn: event.dependsOn, reason: "Submitted by \(Self.describe(event.trigger))", store: store, logger: logger)
    }

    /// Records one job, once per event, then starts or queues it, or (with dependencies) leaves it PENDING.
    func submit(
        _ spec: JobSpec, arguments: [String: String], eventID: String, dependsOn: [String], reason: String, store: JobStore, logger: Logger
    ) throws(LaunchError) -> LaunchResponse {
        let record = try Self.newRecord(spec, arguments: arguments, eventID: eventID, dependsOn: dependsOn, reason: reason)
        // Rendered before anything is written: a script over EC2's limit must leave no trace.
        _ = try userData(record, spec)

        let submitted: JobRecord
        switch try aws({ () throws(AWSError) in try store.submit(record, eventID: eventID) }) {
        case .created(let created):
            logger.info("job \(created.id) \(created.state.rawValue)", metadata: ["job": "\(spec.name)", "event": "\(eventID)"])
            submitted = created
        case .duplicate(let jobID):
            guard let existing = try aws({ () throws(AWSError) in try store.record(jobID) }) else {
                throw .aws(AWSError(kind: .invalidResponse, service: "DynamoDB", operation: "GetItem", code: "MissingJobRecord", message: "event \(eventID) names job \(jobID), which has no record"))
            }
            logger.info("event \(eventID) seen before: job \(jobID) is \(existing.state.rawValue)")
            // A delivery that stopped right after submitting left the job SUBMITTED (or PENDING):
            // carry on with it. Conditional writes make sure only one delivery moves it on.
            guard existing.state == .submitted || existing.state == .pending else { return LaunchResponse(.duplicate, existing) }
            submitted = existing
        case .unknownDependencies(let ids):
            throw .invalidDependencies("no job \(ids.joined(separator: ", ")) to depend on: depends_on takes the ids of submitted jobs")
        }
        let duplicate = submitted.id != record.id
        guard submitted.state == .pending else { return try startOrQueue(submitted, spec, store: store, logger: logger, duplicate: duplicate) }
        return try resolvePending(submitted, spec, store: store, logger: logger, duplicate: duplicate)
    }

    /// Tries to start a SUBMITTED or RUNNABLE job: what the reactor calls when a slot frees.
    public func start(jobID: String, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let store = try store()
        guard let record = try aws({ () throws(AWSError) in try store.record(jobID) }) else {
            throw .aws(AWSError(kind: .invalidResponse, service: "DynamoDB", operation: "GetItem", code: "MissingJobRecord", message: "no job \(jobID)"))
        }
        guard record.state == .submitted || record.state == .runnable else { return LaunchResponse(.duplicate, record) }
        guard let source = configuration.specs, let spec = try source.spec(named: record.job, s3: s3) else {
            throw .unknownJob(record.job, source: configuration.specs.map { "\($0)" } ?? "(SORTIE_SPECS not set)")
        }
        return try startOrQueue(record, spec, store: store, logger: logger, duplicate: false)
    }

    // MARK: Steps of a launch

    func startOrQueue(_ record: JobRecord, _ spec: JobSpec, store: JobStore, logger: Logger, duplicate: Bool) throws(LaunchError) -> LaunchResponse {
        let limits = (spec.maxConcurrency, configuration.globalLimit)
        // A new job queues behind older ones of its kind that are due: a slot that just freed
        // belongs to the head of the queue, not to whichever request asks first.
        let head = record.state == .submitted ? try aws({ () throws(AWSError) in try store.firstDue(job: record.job, now: JobStore.now()) }) : nil
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
            if let next = try aws({ () throws(AWSError) in try store.firstDue(job: record.job, now: JobStore.now()) }),
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
    /// listed types on capacity errors. Any failure marks the job FAILED and frees the slots.
    private func runInstance(_ record: JobRecord, _ spec: JobSpec, store: JobStore, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let script = try userData(record, spec)
        var refusals: [String] = []
        for index in spec.instance.types.indices {
            let type = spec.instance.types[index]
            do throws(AWSError) {
                let output = try ec2.runInstances(InstanceRequest.input(spec, record, type: index, userData: script))
                guard let instance = output.instances.first else {
                    throw AWSError(kind: .invalidResponse, service: "EC2", operation: "RunInstances", code: "NoInstance", message: "RunInstances answered without an instance")
                }
                try store.annotate(record.id, attempt: record.attempt, set: ["instanceId": .s(instance.instanceId), "instanceType": .s(type)])
                logger.info("job \(record.id) STARTING on \(instance.instanceId) (\(type))", metadata: ["job": "\(spec.name)"])
                var started = record
                started.instanceID = instance.instanceId
                started.instanceType = type
                return LaunchResponse(.launched, started)
            } catch where InstanceRequest.capacityCodes.contains(error.code) {
                logger.warning("no capacity for \(type): \(error.code)", metadata: ["job": "\(spec.name)", "job_id": "\(record.id)"])
                refusals.append("\(type): \(error.code)")
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

    func fail(_ record: JobRecord, _ spec: JobSpec, reason: String, store: JobStore, logger: Logger) throws(LaunchError) {
        let moved = try aws({ () throws(AWSError) in
            // No instance was started, so no reactor will decide it: decided here, never retried.
            try store.transition(
                record.id, attempt: record.attempt, from: [.starting], to: .failed, reason: reason,
                set: [JobTable.settledAttribute: .number(JobStore.now())], freeingSlotsOf: record.job)
        })
        logger.error("job \(record.id) FAILED: \(reason)", metadata: ["job": "\(spec.name)"])
        guard moved else { return }
        var failed = record
        failed.state = .failed
        failed.statusReason = reason
        announce(failed, spec, logger: logger)
    }

    /// Tells the spec's `notify` topic about a job FAILED for good; a lost notification is logged, not raised.
    func announce(_ failed: JobRecord, _ spec: JobSpec, logger: Logger) {
        guard let topic = spec.notify else { return }
        do {
            try JobNotification.publish(failed, topic: topic, sns: sns)
        } catch {
            logger.warning("could not notify \(topic): \(error)")
        }
    }

    // MARK: Parts

    func spec(for event: LaunchEvent) throws(LaunchError) -> JobSpec {
        if let inline = event.inlineSpec {
            do {
                return try JobSpec.read(inline)
            } catch {
                throw .invalidSpec(job: event.job, error)
            }
        }
        guard let source = configuration.specs else { throw .configuration("SORTIE_SPECS is not set: no published specs to read") }
        guard let spec = try source.spec(named: event.job, s3: s3) else { throw .unknownJob(event.job, source: "\(source)") }
        return spec
    }

    private func plan(_ spec: JobSpec, _ arguments: [String: String]) throws(LaunchError) -> LaunchResponse {
        var size: Int?
        if configuration.reporting != nil, configuration.runnerURL != nil {
            let record = JobRecord(id: UUID().uuidString.lowercased(), job: spec.name, parameters: arguments, submittedAt: JobStore.now())
            size = try userData(record, spec).utf8.count
        }
        return LaunchResponse(plan: spec, arguments: arguments, userDataBytes: size, missingSettings: configuration.missing)
    }

    private func userData(_ record: JobRecord, _ spec: JobSpec) throws(LaunchError) -> String {
        guard let reporting = configuration.reporting, let runnerURL = configuration.runnerURL else {
            throw .configuration("not set: \(configuration.missing.joined(separator: ", "))")
        }
        let payload = RunnerPayload(jobID: record.id, attempt: record.attempt, arguments: record.parameters, spec: spec, reporting: reporting)
        do {
            return try UserData.render(payload, runnerURL: runnerURL)
        } catch let error as UserDataTooLarge {
            throw .userDataTooLarge(error)
        } catch {
            throw .configuration("cannot encode the runner's payload: \(error)")
        }
    }

    func store() throws(LaunchError) -> JobStore {
        guard let table = configuration.table else { throw .configuration("SORTIE_TABLE is not set") }
        return JobStore(dynamoDB: dynamoDB, table: table)
    }

    func aws<T>(_ body: () throws(AWSError) -> T) throws(LaunchError) -> T {
        do {
            return try body()
        } catch {
            throw .aws(error)
        }
    }

    static func describe(_ trigger: LaunchEvent.Trigger) -> String {
        switch trigger {
        case .schedule(let rule, let time): "schedule \(rule)\(time.map { " at \($0)" } ?? "")"
        case .manual: "manual event"
        }
    }
}
