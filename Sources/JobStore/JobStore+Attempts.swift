import AWSCore
import AWSServices
import JobModel
import TableSchema
import WallTime

/// The reactor's own conditional writes on a job record, beside the transitions. Each is
/// conditional on the attempt and state it acts on, so of two deliveries of one event only
/// one writes, whatever the timing.
extension JobStore {
    /// A record as stored, with what the reactor reads beside the `JobRecord` fields.
    public struct StoredJob: Sendable, Equatable {
        public var record: JobRecord
        /// The attempt's outcome is decided (`settledAt`).
        public var settled: Bool
        /// EC2 warned that the attempt's spot instance is about to be reclaimed.
        public var interruptionWarned: Bool
        /// Where the attempt's full log is: the runner's S3 copy, else its CloudWatch Logs stream.
        public var log: String?
        /// The attempts before this one, oldest first, as `requeue` summarised them.
        public var earlierAttempts: [EarlierAttempt]
        /// Why an operator cancelled this attempt (`noteCancel`), if one did.
        public var cancelReason: String?

        public init(
            record: JobRecord, settled: Bool, interruptionWarned: Bool, log: String?, earlierAttempts: [EarlierAttempt] = [], cancelReason: String? = nil
        ) {
            self.record = record
            self.settled = settled
            self.interruptionWarned = interruptionWarned
            self.log = log
            self.earlierAttempts = earlierAttempts
            self.cancelReason = cancelReason
        }
    }

    /// A retried attempt's outcome and instance, as `requeue` moved it out of the record (older
    /// summaries lack the type and zone).
    public struct EarlierAttempt: Sendable, Equatable {
        public var attempt: Int
        public var exitCode: Int?
        public var failingStep: String?
        public var reason: String?
        public var statusReason: String?
        public var instanceID: String?
        public var instanceType: String?
        public var market: InstanceSpec.Market?
        public var availabilityZone: String?
        public var log: String?

        public init(
            attempt: Int, exitCode: Int? = nil, failingStep: String? = nil, reason: String? = nil, statusReason: String? = nil, instanceID: String? = nil,
            instanceType: String? = nil, market: InstanceSpec.Market? = nil, availabilityZone: String? = nil, log: String? = nil
        ) {
            self.attempt = attempt
            self.exitCode = exitCode
            self.failingStep = failingStep
            self.reason = reason
            self.statusReason = statusReason
            self.instanceID = instanceID
            self.instanceType = instanceType
            self.market = market
            self.availabilityZone = availabilityZone
            self.log = log
        }
    }

    public func stored(_ id: String) throws(AWSError) -> StoredJob? {
        guard let item = try dynamoDB.getItem(.init(tableName: table, key: JobTable.jobKey(id), consistentRead: true)).item else { return nil }
        return try stored(item)
    }

    /// Of these attempts (job id, attempt), the ones still to be decided: the job still at that
    /// attempt, and holding its slots or ended without a decision (`settledAt`). Read by key, a
    /// hundred to a request and only what says so: the sweep's check of every instance EC2 still lists.
    public func undecided(_ attempts: [(jobID: String, attempt: Int)]) throws(AWSError) -> Set<String> {
        let items = try dynamoDB.batchGetAll(
            table: table, keys: Set(attempts.map(\.jobID)).sorted().map(JobTable.jobKey), projectionExpression: "#jobId, #attempt, #state, #settledAt",
            expressionAttributeNames: JobTable.names([.jobID, .attempt, .state, .settledAt]))
        let wanted = Set(attempts.map { "\($0.jobID)#\($0.attempt)" })
        return Set(items.compactMap { item -> String? in
            guard let id = item[.jobID]?.string, let attempt = item[.attempt]?.int, wanted.contains("\(id)#\(attempt)"),
                  let state = item[.state]?.string.flatMap(JobState.init(rawValue:)) else { return nil }
            return state.holdsSlot || (state.isFinal && item[.settledAt] == nil) ? id : nil
        })
    }

    func stored(_ item: DynamoDB.Item) throws(AWSError) -> StoredJob {
        var earlier: [EarlierAttempt] = []
        if case .l(let summaries)? = item[.attempts] {
            for case .m(let summary) in summaries {
                guard let attempt = summary[.attempt]?.int else { continue }
                earlier.append(EarlierAttempt(
                    attempt: attempt, exitCode: summary[.exitCode]?.int, failingStep: summary[.failingStep]?.string, reason: summary[.reason]?.string,
                    statusReason: summary[.statusReason]?.string, instanceID: summary[.instanceID]?.string, instanceType: summary[.instanceType]?.string,
                    market: summary[.market]?.string.flatMap(InstanceSpec.Market.init(rawValue:)), availabilityZone: summary[.availabilityZone]?.string,
                    log: summary[.log]?.string))
            }
        }
        return StoredJob(
            record: try decode(item), settled: item[.settledAt] != nil, interruptionWarned: item[.interruptionWarnedAt] != nil,
            log: item[.logUri]?.string ?? item[.logStream]?.string, earlierAttempts: earlier.sorted { $0.attempt < $1.attempt },
            cancelReason: item[.cancelReason]?.string)
    }

    /// STARTING or RUNNING → FAILED with no final record from its runner (its instance ended, or
    /// the sweep found it overdue), freeing its slots. A lost attempt is decided in the same
    /// write: it is never retried. `false` when another writer moved it first.
    public func failAttempt(_ record: JobRecord, statusReason: String, reason: String?, lost: Bool) throws(AWSError) -> Bool {
        var set: DynamoDB.Item = [:]
        set[.reason] = reason.map { .s($0) }
        if lost { set[.settledAt] = .number(WallClock.unixMilliseconds()) }
        return try transition(
            record.id, attempt: record.attempt, from: [.starting, .running], to: .failed, reason: statusReason, set: set, freeingSlotsOf: record.job)
    }

    /// Marks the attempt as warned of its spot instance's interruption, while it is STARTING or RUNNING.
    public func noteInterruption(_ id: String, attempt: Int) throws(AWSError) -> Bool {
        try annotate(id, attempt: attempt, set: DynamoDB.Item().with([.interruptionWarnedAt: .number(WallClock.unixMilliseconds())]), onlyIn: [.starting, .running])
    }

    /// Marks a SUCCEEDED or FAILED attempt as decided, once: `false` when another delivery did.
    /// `statusReason` replaces the recorded one (an operator's cancel names itself, as Batch's TerminateJob).
    public func settle(_ record: JobRecord, statusReason: String? = nil) throws(AWSError) -> Bool {
        var values: DynamoDB.Item = [":now": .number(WallClock.unixMilliseconds()), ":state": .s(record.state.rawValue), ":attempt": .number(record.attempt)]
        var names = JobTable.names([.settledAt, .state, .attempt])
        var update = "SET #settledAt = :now"
        if let statusReason {
            values[":reason"] = .s(statusReason)
            names.merge(JobTable.names([.statusReason])) { $1 }
            update += ", #statusReason = :reason"
        }
        return try conditionally(.init(
            tableName: table, key: JobTable.jobKey(record.id), updateExpression: update,
            conditionExpression: "#state = :state AND #attempt = :attempt AND attribute_not_exists(#settledAt)",
            expressionAttributeNames: names, expressionAttributeValues: values))
    }

    /// FAILED attempt `n` → RUNNABLE attempt `n + 1`, in both queues at its first submission's
    /// place, startable from `notBefore`. The failed attempt's outcome moves into `attempts`;
    /// the new attempt starts with none of it. `false` when another delivery moved it first.
    public func requeue(_ record: JobRecord, notBefore: Int64, reason: String, log: String?) throws(AWSError) -> Bool {
        var previous: DynamoDB.Item = [:]
        previous[.attempt] = .number(record.attempt)
        previous[.exitCode] = record.exitCode.map { .number($0) }
        previous[.failingStep] = record.failingStep.map { .s($0) }
        previous[.reason] = record.reason.map { .s($0) }
        previous[.statusReason] = record.statusReason.map { .s($0) }
        previous[.instanceID] = record.instanceID.map { .s($0) }
        previous[.instanceType] = record.instanceType.map { .s($0) }
        previous[.market] = record.market.map { .s($0.rawValue) }
        previous[.availabilityZone] = record.availabilityZone.map { .s($0) }
        previous[.log] = log.map { .s($0) }
        var waiting = record
        waiting.state = .runnable
        let now = WallClock.unixMilliseconds()
        var values: DynamoDB.Item = [
            ":runnable": .s(JobState.runnable.rawValue), ":failed": .s(JobState.failed.rawValue), ":attempt": .number(record.attempt),
            ":next": .number(record.attempt + 1), ":now": .number(now), ":notBefore": .number(notBefore), ":reason": .s(reason),
            ":empty": .l([]), ":previous": .l([.m(previous)]),
            ":entry": .l([JobTable.value(.init(state: .runnable, at: now, reason: reason))]),
        ]
        var assignments = [
            "#state = :runnable", "#attempt = :next", "#updatedAt = :now", "#statusReason = :reason", "#notBefore = :notBefore",
            "#history = list_append(if_not_exists(#history, :empty), :entry)", "#attempts = list_append(if_not_exists(#attempts, :empty), :previous)",
        ]
        var names = JobTable.names([.state, .attempt, .updatedAt, .statusReason, .notBefore, .history, .attempts])
        for (name, value) in JobTable.queueAttributes(waiting) {
            names["#\(name)"] = name
            values[":\(name)"] = value
            assignments.append("#\(name) = :\(name)")
        }
        // The failed attempt's outcome, now in its summary.
        let cleared: [JobTable.Attribute] = [
            .exitCode, .failingStep, .reason, .instanceID, .instanceType, .heartbeatAt, .durationMs, .expiresAt, .settledAt, .interruptionWarnedAt,
            .logUri, .logStream, .capacityShortSince, .market, .subnet, .availabilityZone,
        ]
        names.merge(JobTable.names(cleared)) { $1 }
        return try conditionally(.init(
            tableName: table, key: JobTable.jobKey(record.id),
            updateExpression: "SET \(assignments.joined(separator: ", ")) REMOVE \(cleared.map { "#" + $0.rawValue }.joined(separator: ", "))",
            conditionExpression: "#state = :failed AND #attempt = :attempt", expressionAttributeNames: names, expressionAttributeValues: values))
    }

    private func conditionally(_ input: DynamoDB.UpdateItemInput) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(input)
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }
}
