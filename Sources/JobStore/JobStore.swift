import AWSCore
import AWSServices
import JobModel
import TableSchema
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The job model's reads and writes. Every state change is conditional on the state (and
/// attempt) it leaves, so of two writers racing to move a job only one succeeds; slot
/// accounting lives here and only here, for the launcher, the runner and the reactor alike.
public struct JobStore: Sendable {
    public let dynamoDB: DynamoDB
    public let table: String

    public init(dynamoDB: DynamoDB, table: String) {
        self.dynamoDB = dynamoDB
        self.table = table
    }

    // MARK: Reading

    public func record(_ id: String) throws(AWSError) -> JobRecord? {
        guard let item = try dynamoDB.getItem(.init(tableName: table, key: JobTable.jobKey(id), consistentRead: true)).item else { return nil }
        return try decode(item)
    }

    // MARK: Submitting

    public enum Submission: Sendable, Equatable {
        case created(JobRecord)
        /// The event was seen before: this is the job it created.
        case duplicate(jobID: String)
        /// These ids of `dependsOn` have no record; nothing was written.
        case unknownDependencies([String])
    }

    /// Records the event and its job together, once: a second delivery of the same event
    /// finds the event item and is told which job it made. The job's id joins the `dependents`
    /// of every job in its `dependsOn` (and an array's `N_TO_N` arrays) in the same transaction, each of which must exist.
    public func submit(_ record: JobRecord, eventID: String) throws(AWSError) -> Submission {
        let now = WallClock.unixMilliseconds()
        var event = JobTable.eventKey(eventID)
        event[.jobID] = .s(record.id)
        event[.job] = .s(record.job)
        event[.receivedAt] = .number(now)
        event[.expiresAt] = .number(now / 1000 + JobTable.retentionSeconds)
        let notThere = "attribute_not_exists(#pk)"
        let pk = JobTable.names([.pk])
        // An N_TO_N array waits on its arrays' children, and is among their dependents too.
        let edges = record.dependsOn + (record.array?.nToN ?? [])
        do {
            try retryingConflicts { () throws(AWSError) in
                try dynamoDB.transactWriteItems([
                    .put(.init(tableName: table, item: event, conditionExpression: notThere, expressionAttributeNames: pk, returnValuesOnConditionCheckFailure: .allOld)),
                    .put(.init(tableName: table, item: JobTable.item(record), conditionExpression: notThere, expressionAttributeNames: pk)),
                ] + edges.map { dependencyEdge(from: record.id, to: $0) })
            }
            return .created(record)
        } catch where error.transactionCancellationReasons?.dropFirst(2).contains(where: { $0.code == "ConditionalCheckFailed" }) == true
            && error.transactionCancellationReasons?.first?.code != "ConditionalCheckFailed" {
            let reasons = error.transactionCancellationReasons?.dropFirst(2) ?? []
            return .unknownDependencies(zip(edges, reasons).filter { $0.1.code == "ConditionalCheckFailed" }.map(\.0))
        } catch where error.transactionCancellationReasons?.first?.code == "ConditionalCheckFailed" {
            if let id = error.transactionCancellationReasons?.first?.item?[.jobID]?.string { return .duplicate(jobID: id) }
            let seen = try dynamoDB.getItem(.init(tableName: table, key: JobTable.eventKey(eventID), consistentRead: true)).item
            guard let id = seen?[.jobID]?.string else { throw error }
            return .duplicate(jobID: id)
        }
    }

    // MARK: Slots

    public enum StartResult: Sendable, Equatable {
        /// The job holds a slot of its kind and a global one, and is STARTING.
        case started(JobRecord)
        /// Its kind, or the deployment, is at its limit; nothing was written.
        case noSlot
        /// Another writer moved the job first: here is where it is now.
        case moved(JobRecord?)
    }

    /// Moves a SUBMITTED or RUNNABLE job to STARTING while taking one slot of its kind (fewer
    /// than `maxConcurrency` holders) and one global slot (fewer than `globalLimit`), all in one
    /// transaction. Slots are sets of job ids, so taking or freeing one twice changes nothing.
    /// A try of a job waiting out a capacity shortage is no history entry of its own (a long
    /// shortage would grow the item past DynamoDB's 400 KB): its launch is (`launched`).
    public func start(_ record: JobRecord, maxConcurrency: Int, globalLimit: Int, reason: String = "Instance requested") throws(AWSError) -> StartResult {
        let holder: DynamoDB.Item = [":id": .ss([record.id]), ":one": .s(record.id)]
        func take(_ key: DynamoDB.Item, _ limit: Int) -> DynamoDB.TransactWriteItem {
            var values = holder
            values[":max"] = .number(limit)
            return .update(.init(
                tableName: table, key: key, updateExpression: "ADD #holders :id",
                conditionExpression: "attribute_not_exists(#holders) OR size(#holders) < :max OR contains(#holders, :one)",
                expressionAttributeNames: JobTable.names([.holders]), expressionAttributeValues: values))
        }
        do {
            try retryingConflicts { () throws(AWSError) in
                let move = transitionInput(
                    record.id, attempt: record.attempt, from: [record.state], to: .starting, reason: reason,
                    history: !(record.state == .runnable && record.capacityShortSince != nil))
                try dynamoDB.transactWriteItems(
                    [take(JobTable.slotsKey(job: record.job), maxConcurrency), take(JobTable.globalSlotsKey, globalLimit), .update(move)]
                        + (record.arrayChild.map { [parentRunning($0.parent)] } ?? []))
            }
        } catch where error.isTransactionCanceled {
            let codes = error.transactionCancellationReasons?.map(\.code) ?? []
            if codes.count == 4, codes[3] == "ConditionalCheckFailed", codes[2] != "ConditionalCheckFailed" {
                return .moved(try endOrphan(record))
            }
            if codes.count >= 3, codes[2] == "ConditionalCheckFailed" { return .moved(try self.record(record.id)) }
            if codes.prefix(2).contains("ConditionalCheckFailed") { return .noSlot }
            throw error
        }
        return .started(try self.record(record.id) ?? record)
    }

    /// A child starts only while its parent is RUNNING: a cancelled array makes no new instance,
    /// whatever was queued or retried when it was cancelled.
    private func parentRunning(_ parentID: String) -> DynamoDB.TransactWriteItem {
        .conditionCheck(
            tableName: table, key: JobTable.jobKey(parentID), conditionExpression: "#state = :running",
            expressionAttributeNames: JobTable.names([.state]), expressionAttributeValues: [":running": .s(JobState.running.rawValue)])
    }

    /// A child whose parent ended (cancelled) before it could start: FAILED, settled and counted
    /// on its parent, so it leaves the queue instead of heading it. Where it is now.
    private func endOrphan(_ record: JobRecord) throws(AWSError) -> JobRecord? {
        guard let place = record.arrayChild else { return try self.record(record.id) }
        let why = try self.record(place.parent)?.statusReason ?? "no reason recorded"
        let reason = "Array \(place.parent) ended before this child started: \(why)"
        if let failed = try cancelUnstartedChild(record.id, attempt: record.attempt, reason: reason) { return failed }
        return try self.record(record.id)
    }

    /// The ids of every STARTING and RUNNING job (the global slots' holders), sorted.
    public func slotHolders() throws(AWSError) -> [String] {
        let slots = try dynamoDB.getItem(.init(tableName: table, key: JobTable.globalSlotsKey, consistentRead: true)).item
        guard case .ss(let holders)? = slots?[.holders] else { return [] }
        return holders.sorted()
    }

    /// SUBMITTED → RUNNABLE, entering both queues; `nil` when another writer moved it first.
    public func enqueue(_ record: JobRecord, reason: String) throws(AWSError) -> JobRecord? {
        var waiting = record
        waiting.state = .runnable
        guard try transition(record.id, attempt: record.attempt, from: [.submitted], to: .runnable, reason: reason, set: JobTable.queueAttributes(waiting)) else {
            return nil
        }
        return try self.record(record.id)
    }

    /// 1 for the next job of its kind to start. Read from the index, so a write of the last
    /// moment may not be counted yet.
    public func queuePosition(_ record: JobRecord) throws(AWSError) -> Int {
        var ahead = 0
        var start: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.query(.init(
                tableName: table, indexName: JobTable.kindQueueIndex, keyConditionExpression: "#gsi1pk = :queue AND #gsi1sk < :mine",
                projectionExpression: "#pk", expressionAttributeNames: JobTable.names([.gsi1pk, .gsi1sk, .pk]),
                expressionAttributeValues: [":queue": .s(JobTable.kindQueue(record.job)), ":mine": .s(JobTable.queueKey(record))],
                exclusiveStartKey: start))
            ahead += page.count
            start = page.lastEvaluatedKey
        } while start != nil
        return ahead + 1
    }

    /// The first waiting job of a kind, in queue order, whose retry backoff has passed at `now`
    /// (as `WallClock.unixMilliseconds()`): the one a freed slot of that kind belongs to.
    public func firstDue(job: String, now: Int64) throws(AWSError) -> String? {
        var start: DynamoDB.Item?
        for _ in 0..<4 {  // a queue of retries all still backing off: a few pages are enough to say
            let page = try dynamoDB.query(.init(
                tableName: table, indexName: JobTable.kindQueueIndex, keyConditionExpression: "#gsi1pk = :queue",
                projectionExpression: "#jobId, #notBefore", expressionAttributeNames: JobTable.names([.gsi1pk, .jobID, .notBefore]),
                expressionAttributeValues: [":queue": .s(JobTable.kindQueue(job))], limit: 25, exclusiveStartKey: start))
            if let due = page.items.first(where: { item in item[.notBefore]?.int.map { Int64($0) <= now } ?? true }) {
                return due[.jobID]?.string
            }
            start = page.lastEvaluatedKey
            if start == nil { break }
        }
        return nil
    }

    /// A waiting job as the global queue lists it; `notBefore` is a retry's earliest start.
    public struct QueuedJob: Sendable, Equatable {
        public var id: String
        public var job: String
        public var notBefore: Int64?
        /// Its last transition, into RUNNABLE: how long it has waited.
        public var updatedAt: Int64?
    }

    /// One page of the global queue, in the order its jobs should start, and where the next begins.
    public func queued(limit: Int, after start: DynamoDB.Item?) throws(AWSError) -> (jobs: [QueuedJob], next: DynamoDB.Item?) {
        let page = try dynamoDB.query(.init(
            tableName: table, indexName: JobTable.globalQueueIndex, keyConditionExpression: "#gsi2pk = :queue",
            projectionExpression: "#jobId, #job, #notBefore, #updatedAt",
            expressionAttributeNames: JobTable.names([.gsi2pk, .jobID, .job, .notBefore, .updatedAt]),
            expressionAttributeValues: [":queue": .s(JobTable.globalQueue)], limit: limit, exclusiveStartKey: start))
        let jobs = page.items.compactMap { item -> QueuedJob? in
            guard let id = item[.jobID]?.string, let job = item[.job]?.string else { return nil }
            return QueuedJob(id: id, job: job, notBefore: item[.notBefore]?.int.map { Int64($0) }, updatedAt: item[.updatedAt]?.int64)
        }
        return (jobs, page.lastEvaluatedKey)
    }

    /// The ids of waiting jobs in the order they should start: one kind's, or (`job` nil) all.
    public func runnable(job: String?, limit: Int) throws(AWSError) -> [String] {
        let (index, partition, queue) = job.map { (JobTable.kindQueueIndex, JobTable.Attribute.gsi1pk, JobTable.kindQueue($0)) }
            ?? (JobTable.globalQueueIndex, .gsi2pk, JobTable.globalQueue)
        let page = try dynamoDB.query(.init(
            tableName: table, indexName: index, keyConditionExpression: "#\(partition.rawValue) = :queue", projectionExpression: "#jobId",
            expressionAttributeNames: JobTable.names([partition, .jobID]), expressionAttributeValues: [":queue": .s(queue)], limit: limit))
        return page.items.compactMap { $0[.jobID]?.string }
    }

    // MARK: Launches

    /// Records the instance (its type, market, subnet and zone) a STARTING attempt was launched on;
    /// after a capacity shortage (`shortSince`), with the history entry its quiet try did not make.
    public func launched(
        _ id: String, attempt: Int, instanceID: String, instanceType: String, market: InstanceSpec.Market, subnet: String?, availabilityZone: String? = nil,
        shortSince: Int64? = nil
    ) throws(AWSError) {
        var set: DynamoDB.Item = [:]
        set[.instanceID] = .s(instanceID)
        set[.instanceType] = .s(instanceType)
        set[.market] = .s(market.rawValue)
        set[.subnet] = subnet.map { .s($0) }
        set[.availabilityZone] = availabilityZone.map { .s($0) }
        guard let shortSince else {
            try annotate(id, attempt: attempt, set: set)
            return
        }
        let waited = max(0, WallClock.unixMilliseconds() - shortSince) / 1000
        _ = try transition(id, attempt: attempt, from: [.starting], to: .starting, reason: "Instance requested: capacity returned after \(waited)s", set: set)
    }

    /// STARTING → FAILED, settled and freeing its slots: no instance was started, so no reactor
    /// will decide it. `false` when another writer moved it first.
    public func failUnlaunched(_ record: JobRecord, reason: String) throws(AWSError) -> Bool {
        try transition(record.id, attempt: record.attempt, from: [.starting], to: .failed, reason: reason, set: settled(), freeingSlotsOf: record.job)
    }

    /// STARTING → RUNNABLE after EC2 had no capacity, freeing its slots: back in both queues at its
    /// place, due again at `notBefore`, remembering when capacity first ran short (`since`).
    /// `false` when another writer moved it first. Only the first refusal is a history entry; the
    /// later ones update the status reason.
    public func awaitCapacity(_ record: JobRecord, reason: String, notBefore: Int64, since: Int64) throws(AWSError) -> Bool {
        var waiting = record
        waiting.state = .runnable
        var set = JobTable.queueAttributes(waiting)
        set[.notBefore] = .number(notBefore)
        set[.capacityShortSince] = .number(since)
        return try transition(
            record.id, attempt: record.attempt, from: [.starting], to: .runnable, reason: reason, set: set, freeingSlotsOf: record.job,
            history: record.capacityShortSince == nil)
    }

    // MARK: Cancels

    /// A job that never started → FAILED, settled (never retried). `false` when it moved on meanwhile.
    public func cancelUnstarted(_ id: String, attempt: Int, reason: String) throws(AWSError) -> Bool {
        try transition(id, attempt: attempt, from: [.submitted, .pending, .runnable], to: .failed, reason: reason, set: settled())
    }

    /// Notes an operator's cancel on a started attempt, before its instance is terminated.
    public func noteCancel(_ id: String, attempt: Int, reason: String) throws(AWSError) {
        var set: DynamoDB.Item = [:]
        set[.cancelRequestedAt] = .number(WallClock.unixMilliseconds())
        set[.cancelReason] = .s(reason)
        try annotate(id, attempt: attempt, set: set)
    }

    /// The attribute that marks an outcome decided, as of now.
    func settled() -> DynamoDB.Item {
        var set: DynamoDB.Item = [:]
        set[.settledAt] = .number(WallClock.unixMilliseconds())
        return set
    }

    // MARK: Transitions

    /// Moves attempt `attempt` of a job from one of `from` to `to`, appending to its history.
    /// Leaving a slot-holding state for one that holds none frees the slots of kind `job` in the
    /// same transaction. `false`: the job was not in one of `from` (or not at that attempt).
    @discardableResult
    public func transition(
        _ id: String, attempt: Int, from: [JobState], to: JobState, reason: String?, freeingSlotsOf job: String? = nil
    ) throws(AWSError) -> Bool {
        try transition(id, attempt: attempt, from: from, to: to, reason: reason, set: [:], freeingSlotsOf: job)
    }

    /// The same, also setting the attributes `set`: for this module's writes, which name them.
    /// `history: false` moves the job without a history entry.
    func transition(
        _ id: String, attempt: Int, from: [JobState], to: JobState, reason: String?, set: DynamoDB.Item, freeingSlotsOf job: String? = nil,
        history: Bool = true
    ) throws(AWSError) -> Bool {
        // The input is made on each try: a history entry carries the time of the write that
        // lands, so entries of jobs that contend for slots sort as their writes did.
        func update() -> DynamoDB.UpdateItemInput {
            transitionInput(id, attempt: attempt, from: from, to: to, reason: reason, set: set, history: history)
        }
        do {
            if let job, !to.holdsSlot {
                // Sent again after a lost answer, a transaction is answered as the first was (its ClientRequestToken).
                try retryingConflicts { () throws(AWSError) in
                    try dynamoDB.transactWriteItems([.update(update()), free(JobTable.slotsKey(job: job), id), free(JobTable.globalSlotsKey, id)])
                }
            } else {
                try retryingConflicts { () throws(AWSError) in
                    var input = update()
                    input.returnValuesOnConditionCheckFailure = .allOld
                    do throws(AWSError) {
                        try dynamoDB.updateItem(input)
                    } catch where Self.landed(input, old: error.conditionalCheckFailedItem) {
                        // Sent again after its answer was lost, the write fails its own condition: it had landed.
                    }
                }
            }
            return true
        } catch where error.isConditionalCheckFailed || error.transactionCancellationReasons?.first?.code == "ConditionalCheckFailed" {
            return false
        }
    }

    /// Whether the item a transition's condition failed on holds that transition, landed: its token.
    static func landed(_ input: DynamoDB.UpdateItemInput, old: DynamoDB.Item?) -> Bool {
        guard let token = input.expressionAttributeValues?[":token"] else { return false }
        return old?[.transitionToken] == token
    }

    /// Sets attributes of one attempt whatever its state (the instance id after a launch, a heartbeat).
    @discardableResult
    func annotate(_ id: String, attempt: Int, set: DynamoDB.Item, onlyIn states: [JobState]? = nil) throws(AWSError) -> Bool {
        var names = JobTable.names([.pk, .attempt, .updatedAt])
        var values: DynamoDB.Item = [":attempt": .number(attempt), ":now": .number(WallClock.unixMilliseconds())]
        var assignments = ["#updatedAt = :now"]
        for (index, (name, value)) in set.sorted(by: { $0.key < $1.key }).enumerated() {
            names["#s\(index)"] = name
            values[":s\(index)"] = value
            assignments.append("#s\(index) = :s\(index)")
        }
        var condition = "#attempt = :attempt"
        if let states {
            names.merge(JobTable.names([.state])) { $1 }
            condition += " AND #state IN (\(states.indices.map { ":in\($0)" }.joined(separator: ", ")))"
            for (index, state) in states.enumerated() { values[":in\(index)"] = .s(state.rawValue) }
        }
        do {
            try retryingConflicts { () throws(AWSError) in
                try dynamoDB.updateItem(.init(
                    tableName: table, key: JobTable.jobKey(id), updateExpression: "SET " + assignments.joined(separator: ", "),
                    conditionExpression: "attribute_exists(#pk) AND " + condition, expressionAttributeNames: names, expressionAttributeValues: values))
            }
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }

    private func transitionInput(
        _ id: String, attempt: Int, from: [JobState], to: JobState, reason: String?, set: DynamoDB.Item = [:], history: Bool = true
    ) -> DynamoDB.UpdateItemInput {
        let now = WallClock.unixMilliseconds()
        var names = JobTable.names([.state, .attempt, .statusReason, .updatedAt, .transitionToken])
        var values: DynamoDB.Item = [
            ":to": .s(to.rawValue), ":attempt": .number(attempt), ":now": .number(now), ":token": .s(UUID().uuidString.lowercased()),
        ]
        var assignments = ["#state = :to", "#updatedAt = :now", "#transitionToken = :token"]
        if history {
            names.merge(JobTable.names([.history])) { $1 }
            values[":empty"] = .l([])
            values[":entry"] = .l([JobTable.value(.init(state: to, at: now, reason: reason))])
            assignments.append("#history = list_append(if_not_exists(#history, :empty), :entry)")
        }
        // Leaving the queues, unless `set` puts it back in one (a PENDING job's partition).
        let leaving: [JobTable.Attribute] = to == .runnable ? [] : [.gsi1pk, .gsi1sk, .gsi2pk, .gsi2sk].filter { set[$0] == nil }
        names.merge(JobTable.names(leaving)) { $1 }
        var removals = leaving.map { "#" + $0.rawValue }
        if let reason {
            values[":reason"] = .s(reason)
            assignments.append("#statusReason = :reason")
        } else {
            removals.append("#statusReason")
        }
        if to.isFinal {
            assignments.append("#expiresAt = :expires")
            names.merge(JobTable.names([.expiresAt])) { $1 }
        }
        values[":expires"] = to.isFinal ? .number(now / 1000 + JobTable.retentionSeconds) : nil
        for (index, (name, value)) in set.sorted(by: { $0.key < $1.key }).enumerated() {
            names["#s\(index)"] = name
            values[":s\(index)"] = value
            assignments.append("#s\(index) = :s\(index)")
        }
        for (index, state) in from.enumerated() { values[":from\(index)"] = .s(state.rawValue) }
        var expression = "SET " + assignments.joined(separator: ", ")
        if !removals.isEmpty { expression += " REMOVE " + removals.joined(separator: ", ") }
        return .init(
            tableName: table, key: JobTable.jobKey(id), updateExpression: expression,
            conditionExpression: "#state IN (\(from.indices.map { ":from\($0)" }.joined(separator: ", "))) AND #attempt = :attempt",
            expressionAttributeNames: names, expressionAttributeValues: values)
    }

    private func free(_ key: DynamoDB.Item, _ id: String) -> DynamoDB.TransactWriteItem {
        .update(.init(
            tableName: table, key: key, updateExpression: "DELETE #holders :id", expressionAttributeNames: JobTable.names([.holders]),
            expressionAttributeValues: [":id": .ss([id])]))
    }

    func decode(_ item: DynamoDB.Item) throws(AWSError) -> JobRecord {
        do {
            return try JobTable.record(item)
        } catch {
            throw AWSError(kind: .invalidResponse, service: "DynamoDB", operation: "GetItem", code: "MalformedJobRecord", message: error.description)
        }
    }

    /// Transactions on a busy item (a kind's slots) are cancelled with `TransactionConflict`
    /// when they overlap: those are tried again after a short random pause, a bounded number of times.
    @discardableResult
    func retryingConflicts<T>(_ body: () throws(AWSError) -> T) throws(AWSError) -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch {
                let reasons = error.transactionCancellationReasons?.map(\.code) ?? []
                let conflict = error.code == "TransactionConflictException"
                    || (reasons.contains("TransactionConflict") && !reasons.contains("ConditionalCheckFailed"))
                attempt += 1
                guard conflict, attempt < 12 else { throw error }
                AWSCore.RetryPolicy.blockingSleep(.milliseconds(Int.random(in: 5...min(1000, 20 << min(attempt, 6)))))
            }
        }
    }
}
