import AWSCore
import AWSServices
import EmbeddedMetrics
import JobLaunch
import Logging
import JobModel
import JobStore
import WallTime

/// Turns instance endings into decisions: SUCCEEDED, another attempt, or FAILED with a
/// notification; then fills the freed slot with the oldest waiting job that fits. Every write
/// is conditional on the attempt and state it leaves, so duplicate and out-of-order events
/// decide once. See `Decision` for the table and `sweep` for what the schedule catches.
public struct Reactor: Sendable {
    public let configuration: ReactorConfiguration
    /// Starts waiting jobs as the launcher starts new ones.
    let starter: JobStarter
    let client: AWSClient
    // Made when used: every stored field adds to the copy code of this type, and the
    // bootstrap is within a few kilobytes of its zip budget.
    var ec2: EC2 { EC2(client: client) }
    var s3: S3 { S3(client: client) }
    var sns: SNS { SNS(client: client) }
    /// Tags the launcher puts on every instance.
    static let jobTag = "sortie:job-id"
    static let attemptTag = "sortie:attempt"

    /// `emit` writes a metrics line as-is (`Lambda.writeLogLine` in the function): each decision's
    /// `JobMetrics`, the sweep's queue age.
    public init(configuration: ReactorConfiguration, client: AWSClient, emit: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        starter = JobStarter(configuration: configuration.launcher, client: client, emit: emit)
        self.client = client
    }

    public func handle(_ event: ReactorEvent, logger: Logger) throws(ReactorError) -> ReactorResponse {
        switch event.kind {
        case .stateChange(let instanceID, let state):
            guard Self.endingStates.contains(state) else {
                logger.debug("instance \(instanceID) is \(state): not an ending")
                return ReactorResponse(.ignored, instanceID: instanceID, detail: "\(state) ends nothing")
            }
            guard let instance = try describe(instanceID, logger: logger) else {
                return ReactorResponse(.ignored, instanceID: instanceID, detail: "not a Sortie job's instance")
            }
            var response = try react(to: instance, logger: logger)
            if response.outcome != .ignored { try startFreed(after: &response, logger: logger) }
            return response
        case .interruptionWarning(let instanceID):
            guard let instance = try describe(instanceID, logger: logger) else {
                return ReactorResponse(.ignored, instanceID: instanceID, detail: "not a Sortie job's instance")
            }
            return try noteInterruption(instance, logger: logger)
        case .attemptEnded(let ended):
            var response = try decideKept(ended.jobID, attempt: ended.attempt, logger: logger)
            if response.outcome == .decided { try startFreed(after: &response, logger: logger) }
            return response
        case .sweep:
            return try sweep(logger: logger)
        }
    }

    static let endingStates: Set<String> = ["terminated", "stopped"]

    // MARK: One instance's ending

    /// Decides the attempt `instance` ran, if it is Sortie's and still this attempt's.
    func react(to instance: EC2.Instance, logger: Logger) throws(ReactorError) -> ReactorResponse {
        let id = instance.instanceId
        let store = try store()
        guard let (jobID, attempt) = Self.job(of: instance), let stored = try aws({ () throws(AWSError) in try store.stored(jobID) }) else {
            logger.debug("instance \(id) has no Sortie job record: ignored")
            return ReactorResponse(.ignored, instanceID: id, detail: "no job record")
        }
        let record = stored.record
        guard record.attempt == attempt, record.instanceID == nil || record.instanceID == id else {
            logger.debug("instance \(id) ran attempt \(attempt) of job \(jobID), which is now at attempt \(record.attempt)")
            return ReactorResponse(.stale, instanceID: id, jobID: jobID, attempt: attempt, detail: "job \(jobID) is at attempt \(record.attempt)")
        }
        let ending = InstanceEnding(
            instanceID: id, state: instance.state?.name, reasonCode: instance.stateReason?.code, reasonMessage: instance.stateReason?.message,
            spotWarned: stored.interruptionWarned)
        switch record.state {
        case .starting, .running:
            return try end(record, Decision.failure(ending, cancelled: stored.cancelReason), ending: ending, logger: logger)
        case .succeeded, .failed:
            return try decide(stored, ending: ending, logger: logger)
        case .submitted, .pending, .runnable:
            return ReactorResponse(.stale, instanceID: id, jobID: jobID, attempt: attempt, detail: "job \(jobID) is \(record.state.rawValue)")
        }
    }

    /// Records an attempt with no final record as failed (freeing its slots), then decides it.
    /// A lost attempt is decided in the same write: it is never retried.
    func end(_ record: JobRecord, _ failure: AttemptFailure, ending: InstanceEnding?, logger: Logger) throws(ReactorError) -> ReactorResponse {
        let store = try store()
        let moved = try aws { () throws(AWSError) in
            try store.failAttempt(record, statusReason: failure.statusReason, reason: failure.reason, lost: failure.lost)
        }
        guard let stored = try aws({ () throws(AWSError) in try store.stored(record.id) }) else {
            return ReactorResponse(.ignored, instanceID: ending?.instanceID, jobID: record.id, detail: "job record deleted")
        }
        guard stored.record.attempt == record.attempt else {
            return ReactorResponse(.stale, instanceID: ending?.instanceID, jobID: record.id, attempt: record.attempt, detail: "retried meanwhile")
        }
        // Not moved: another delivery ended it, or the runner's final record came first.
        guard failure.lost, moved else { return try decide(stored, ending: ending, logger: logger) }
        logger.warning("job \(record.id) attempt \(record.attempt) FAILED: \(failure.statusReason)", metadata: ["job": "\(record.job)"])
        emitEnding(stored.record, .failed)
        try notify(stored.record, log: stored.log, logger: logger)
        var response = ReactorResponse(.decided, instanceID: ending?.instanceID, jobID: record.id, attempt: record.attempt, decision: .failed, detail: failure.statusReason)
        response.dependents(try resolveDependents(of: record.id, logger: logger))
        return response
    }

    /// Decides a SUCCEEDED or FAILED attempt, once.
    func decide(_ stored: JobStore.StoredJob, ending: InstanceEnding?, logger: Logger) throws(ReactorError) -> ReactorResponse {
        let record = stored.record
        let instanceID = ending?.instanceID ?? record.instanceID
        guard !stored.settled else {
            // Decided by an earlier delivery, which may have stopped before its dependents were resolved
            // (an array child's count, should it have stopped before that, is the sweep's pass over arrays).
            var response = ReactorResponse(.duplicate, instanceID: instanceID, jobID: record.id, attempt: record.attempt, detail: "decided before")
            response.dependents(try resolveDependents(of: record.id, countingChild: false, logger: logger))
            return response
        }
        // Only a failure needs the spec (its retry rules); a success is decided without reading it.
        let spec = record.state == .failed ? try spec(record.job) : nil
        guard let verdict = Decision.verdict(record, retry: spec?.retry ?? RetryStrategy(), ending: ending, cancelled: stored.cancelReason != nil) else {
            return ReactorResponse(.stale, instanceID: instanceID, jobID: record.id, attempt: record.attempt, detail: "attempt has not ended")
        }
        let store = try store()
        var response = ReactorResponse(.decided, instanceID: instanceID, jobID: record.id, attempt: record.attempt, decision: verdict)
        switch verdict {
        case .retry:
            let wait = configuration.backoff.seconds(before: record.attempt + 1)
            let notBefore = WallClock.unixMilliseconds() + Int64(wait) * 1000
            let attempts = spec?.retry.attempts ?? 1
            let reason = "Retry: attempt \(record.attempt + 1) of \(attempts) after \(record.statusReason ?? "a failure"), in \(wait)s"
            guard try aws({ () throws(AWSError) in try store.requeue(record, notBefore: notBefore, reason: reason, log: stored.log) }) else {
                return ReactorResponse(.duplicate, instanceID: instanceID, jobID: record.id, attempt: record.attempt, detail: "retried before")
            }
            logger.info("job \(record.id) attempt \(record.attempt) failed: \(reason)", metadata: ["job": "\(record.job)"])
            emitEnding(record, .retried)
            response.detail = reason
            response.notBefore = notBefore
        case .succeeded, .failed:
            // A cancelled attempt's runner wrote the host's reason on SIGTERM: the cancel's is the one to keep.
            let cancel = verdict == .failed ? stored.cancelReason.flatMap { $0 == record.statusReason ? nil : $0 } : nil
            guard try aws({ () throws(AWSError) in try store.settle(record, statusReason: cancel) }) else {
                var duplicate = ReactorResponse(.duplicate, instanceID: instanceID, jobID: record.id, attempt: record.attempt, detail: "decided before")
                duplicate.dependents(try resolveDependents(of: record.id, countingChild: false, logger: logger))
                return duplicate
            }
            var record = record
            if let cancel { record.statusReason = cancel }
            response.detail = record.statusReason
            emitEnding(record, verdict == .failed ? .failed : .succeeded)
            response.dependents(try resolveDependents(of: record.id, logger: logger))
            if verdict == .failed {
                logger.warning("job \(record.id) FAILED after \(record.attempt) attempt(s): \(record.statusReason ?? "")", metadata: ["job": "\(record.job)"])
                try notify(record, log: stored.log, logger: logger)
            } else {
                logger.info("job \(record.id) SUCCEEDED on attempt \(record.attempt)", metadata: ["job": "\(record.job)"])
            }
        }
        return response
    }

    /// Starts waiting jobs in what an ending freed: its slot, and one for each dependent it released.
    private func startFreed(after response: inout ReactorResponse, logger: Logger) throws(ReactorError) {
        response.started = try startWaiting(upTo: 1 + (response.released?.count ?? 0), logger: logger).started
    }

    /// Decides an attempt whose runner wrote its final record on an instance kept after the job
    /// (`no_shutdown`), without waiting for the instance to end; once, whoever asks first.
    func decideKept(_ jobID: String, attempt: Int, logger: Logger) throws(ReactorError) -> ReactorResponse {
        let store = try store()
        guard let stored = try aws({ () throws(AWSError) in try store.stored(jobID) }), stored.record.attempt == attempt,
              stored.record.state == .succeeded || stored.record.state == .failed else {
            return ReactorResponse(.stale, jobID: jobID, attempt: attempt, detail: "attempt \(attempt) of job \(jobID) has not ended")
        }
        return try decide(stored, ending: nil, logger: logger)
    }

    /// Marks the attempt on a spot instance EC2 is about to reclaim, so its ending counts as
    /// the host's failure even where the state reason does not say so.
    func noteInterruption(_ instance: EC2.Instance, logger: Logger) throws(ReactorError) -> ReactorResponse {
        guard let (jobID, attempt) = Self.job(of: instance) else {
            return ReactorResponse(.ignored, instanceID: instance.instanceId, detail: "not a Sortie job's instance")
        }
        let store = try store()
        let noted = try aws { () throws(AWSError) in try store.noteInterruption(jobID, attempt: attempt) }
        logger.info("spot interruption warning for instance \(instance.instanceId), job \(jobID) attempt \(attempt)\(noted ? "" : ": attempt no longer running")")
        return ReactorResponse(noted ? .noted : .stale, instanceID: instance.instanceId, jobID: jobID, attempt: attempt)
    }

    // MARK: Parts

    static func job(of instance: EC2.Instance) -> (id: String, attempt: Int)? {
        guard let id = instance.tag(jobTag), let attempt = instance.tag(attemptTag).flatMap({ Int($0) }) else { return nil }
        return (id, attempt)
    }

    /// `nil` for an instance EC2 does not know or that carries no job tag.
    private func describe(_ instanceID: String, logger: Logger) throws(ReactorError) -> EC2.Instance? {
        let instance: EC2.Instance?
        do {
            instance = try ec2.describeInstances(instanceIds: [instanceID]).instances.first
        } catch where error.code.hasPrefix("InvalidInstanceID") {
            instance = nil
        } catch {
            throw .aws(error)
        }
        guard let instance, Self.job(of: instance) != nil else {
            logger.debug("instance \(instanceID) is not a Sortie job's: ignored")
            return nil
        }
        return instance
    }

    func spec(_ job: String) throws(ReactorError) -> JobSpec? {
        guard let source = configuration.launcher.specs else { throw .configuration("SORTIE_SPECS is not set") }
        do {
            return try source.spec(named: job, s3: s3)
        } catch {
            throw .launch(error)
        }
    }

    func notify(_ record: JobRecord, log: String?, logger: Logger) throws(ReactorError) {
        // An array's parent is announced (by `JobStarter`), not each of its children.
        guard record.arrayChild == nil, let topic = try spec(record.job)?.notify else { return }
        do {
            try JobNotification.publish(record, topic: topic, sns: sns, log: log)
        } catch {
            // The decision stands; a lost notification must not make Lambda redo it.
            logger.error("could not notify \(topic) of job \(record.id): \(error)")
        }
    }

    func emitEnding(_ record: JobRecord, _ outcome: JobMetrics.Outcome) {
        starter.emit(JobMetrics.ending(record, outcome: outcome, at: WallClock.unixMilliseconds()).rendered())
    }

    func store() throws(ReactorError) -> JobStore {
        guard let table = configuration.launcher.table else { throw .configuration("SORTIE_TABLE is not set") }
        return JobStore(dynamoDB: DynamoDB(client: client), table: table)
    }

    func aws<T>(_ body: () throws(AWSError) -> T) throws(ReactorError) -> T {
        do {
            return try body()
        } catch {
            throw .aws(error)
        }
    }
}
