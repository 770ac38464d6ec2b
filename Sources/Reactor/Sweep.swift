import AWSCore
import AWSServices
import EmbeddedMetrics
import JobLaunch
import Logging
import JobModel
import JobStore
import WallTime

extension Reactor {
    /// The schedule's pass over what events missed:
    ///
    /// 1. Sortie instances EC2 lists as stopped or terminated (it keeps them about an hour): each
    ///    whose attempt is undecided (read a hundred to a request) is reacted to as its event would have been.
    /// 2. Slot holders: a STARTING job whose instance never came up (or whose runner never
    ///    reported in) and a RUNNING job whose heartbeat stopped or whose timeout passed get
    ///    their instance terminated and the attempt failed, then decided by the retry rules;
    ///    one whose instance EC2 no longer knows is lost.
    /// 3. Attempts that ended on an instance kept for debugging (`no_shutdown`): the runner wrote
    ///    the final record (freeing the slots) but the instance, and so its event, may not end for days.
    /// 4. PENDING jobs whose dependencies have ended (`Dependencies.swift`).
    /// 5. RUNNING arrays: children that ended uncounted, the next children, the decision (`Arrays.swift`).
    /// 6. Waiting jobs, due retries among them, while slots are free.
    ///
    /// A job whose step fails (whatever the error) is logged and left for the next sweep; the
    /// others go on.
    func sweep(logger: Logger) throws(ReactorError) -> ReactorResponse {
        var recovered: [String] = []
        // EC2 lists ended instances for about an hour: only those whose attempt is still undecided are reacted to.
        let ended = try sortieInstances(filters: [.init(name: "instance-state-name", values: Array(Self.endingStates))]).map { (instance: $0, job: Self.job(of: $0)) }
        let store = try store()
        let undecided = try aws { () throws(AWSError) in try store.undecided(ended.compactMap { $0.job.map { (jobID: $0.id, attempt: $0.attempt) } }) }
        for (instance, job) in ended where job.map({ undecided.contains($0.id) }) ?? true {
            do {
                let response = try react(to: instance, logger: logger)
                if response.outcome == .decided, let id = response.jobID { recovered.append(id) }
            } catch {
                logger.error("instance \(instance.instanceId) not decided: \(error)")
            }
        }
        let slots = try checkSlotHolders(logger: logger)
        recovered += slots.recovered
        recovered += try decideKept(logger: logger)
        var response = ReactorResponse(.swept)
        response.recovered = recovered
        let pending = try resolvePending(logger: logger)
        response.dependents(pending.moved + (try sweepArrays(logger: logger)))
        let waiting = try startWaiting(upTo: Self.sweepStarts, logger: logger)
        response.started = waiting.started
        // The alarm on a job RUNNABLE too long reads the age: 0 when nothing is left waiting, so it
        // clears. The counts are the dashboard's jobs by state, as this pass found them.
        let now = WallClock.unixMilliseconds()
        starter.emit(MetricLine(
            dimension: nil,
            values: [
                (.oldestRunnableAge, waiting.oldestLeftSince.map { max(0, now - $0) / 1000 } ?? 0), (.runnableJobs, Int64(waiting.leftWaiting)),
                (.activeJobs, Int64(slots.active - slots.recovered.count)), (.pendingJobs, Int64(pending.stillWaiting)),
            ], timestampMilliseconds: now
        ).rendered())
        return response
    }

    /// At most this many jobs started per sweep: a Lambda invocation has a time limit.
    static let sweepStarts = 100

    /// The jobs this ended, of the `active` (STARTING or RUNNING) it found.
    private func checkSlotHolders(logger: Logger) throws(ReactorError) -> (recovered: [String], active: Int) {
        let store = try store()
        let holders = try aws { () throws(AWSError) in try store.slotHolders() }
        var records: [JobRecord] = []
        for id in holders {
            if let record = try aws({ () throws(AWSError) in try store.record(id) }) { records.append(record) }
        }
        let ids = records.compactMap(\.instanceID)
        var instances: [String: EC2.Instance] = [:]
        if !ids.isEmpty {
            for instance in try sortieInstances(filters: [.init(name: "instance-id", values: ids)]) { instances[instance.instanceId] = instance }
        }
        var recovered: [String] = []
        for record in records where record.state.holdsSlot {
            do {
                if try endIfOverdue(record, instance: record.instanceID.flatMap { instances[$0] }, logger: logger) { recovered.append(record.id) }
            } catch {
                logger.error("job \(record.id) not checked: \(error)", metadata: ["job": "\(record.job)"])
            }
        }
        return (recovered, records.filter(\.state.holdsSlot).count)
    }

    /// Ends the attempt when it is overdue (terminating its instance); whether this decided it.
    private func endIfOverdue(_ record: JobRecord, instance: EC2.Instance?, logger: Logger) throws(ReactorError) -> Bool {
        guard let failure = try overdue(record, instance: instance) else { return false }
        if let instanceID = record.instanceID, let instance, !Self.endingStates.contains(instance.state?.name ?? "") {
            _ = try aws { () throws(AWSError) in try ec2.terminateInstances([instanceID]) }
        }
        logger.warning("job \(record.id) attempt \(record.attempt): \(failure.statusReason)", metadata: ["job": "\(record.job)"])
        return try end(record, failure, ending: nil, logger: logger).outcome == .decided
    }

    /// Why a slot-holding attempt should be ended now; `nil` while it is fine.
    private func overdue(_ record: JobRecord, instance: EC2.Instance?) throws(ReactorError) -> AttemptFailure? {
        let now = WallClock.unixMilliseconds()
        let entered = record.history.last { $0.state == record.state }?.at
        // A try while waiting out a capacity shortage is STARTING without a history entry: its time is the write's.
        let since = record.state == .starting && record.capacityShortSince != nil ? max(entered ?? 0, record.updatedAt) : entered ?? record.updatedAt
        if let instanceID = record.instanceID, instance == nil, now - since > 60_000 {
            return Decision.failure(InstanceEnding(instanceID: instanceID, state: nil, reasonCode: nil, reasonMessage: nil, spotWarned: false))
        }
        if let state = instance?.state?.name, Self.endingStates.contains(state) { return nil }  // step 1 decided it
        switch record.state {
        case .starting:
            let limit = Int64(configuration.startTimeoutSeconds) * 1000
            guard now - since > limit else { return nil }
            let what = record.instanceID.map { "Instance \($0) did not start the runner" } ?? "No instance was launched"
            return AttemptFailure(statusReason: "\(what) within \(configuration.startTimeoutSeconds)s", reason: nil, lost: false)
        case .running:
            let grace = Int64(configuration.heartbeatTimeoutSeconds) * 1000
            if let timeout = try spec(record.job)?.timeoutSeconds, now - since > Int64(timeout) * 1000 + grace {
                return AttemptFailure(statusReason: "Job attempt duration exceeded timeout", reason: "Ended by the reactor: still running \(timeout)s after it started", lost: false)
            }
            let beat = record.heartbeatAt ?? since
            guard now - beat > grace else { return nil }
            return AttemptFailure(
                statusReason: "Heartbeat stopped", reason: "No heartbeat from the runner for \((now - beat) / 1000)s", lost: false)
        case .submitted, .pending, .runnable, .succeeded, .failed:
            return nil
        }
    }

    /// Decides each ended attempt whose instance is kept, in case its runner's `AttemptEnded` was lost.
    private func decideKept(logger: Logger) throws(ReactorError) -> [String] {
        let kept = try sortieInstances(filters: [
            .init(name: "instance-state-name", values: ["pending", "running"]), .init(name: "tag:\(JobStarter.keepTag)", values: ["true"]),
        ])
        var decided: [String] = []
        for instance in kept {
            guard let (jobID, attempt) = Self.job(of: instance) else { continue }
            do {
                if try decideKept(jobID, attempt: attempt, logger: logger).outcome == .decided { decided.append(jobID) }
            } catch {
                logger.error("job \(jobID) on kept instance \(instance.instanceId) not decided: \(error)")
            }
        }
        return decided
    }

    /// Every page of Sortie's instances that match `filters`.
    private func sortieInstances(filters: [EC2.Filter]) throws(ReactorError) -> [EC2.Instance] {
        var all: [EC2.Instance] = []
        var token: String?
        repeat {
            let page = try aws { () throws(AWSError) in
                try ec2.describeInstances(filters: filters + [.init(name: "tag-key", values: [Self.jobTag])], nextToken: token)
            }
            all += page.instances
            token = page.nextToken
        } while token != nil
        return all
    }
}
