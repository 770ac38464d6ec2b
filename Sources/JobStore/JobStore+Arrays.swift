import AWSCore
import AWSServices
import JobModel
import TableSchema
import WallTime

/// Array jobs in the table (`JobArray` says how they behave). The parent holds the array's
/// progress: children `0..<arrayCreated` exist, `arrayOpen` lists those not yet counted as
/// ended, `arraySucceeded`/`arrayFailed` count the rest. Children are created a window at a
/// time (one transaction with the parent's `arrayCreated` as its condition, so two creators
/// never make the same child), and each is counted once (its index leaves `arrayOpen` in the
/// same write as the count), so the parent's item stays the size of the window and repeated or
/// out-of-order endings count once.
extension JobStore {
    public struct ArrayProgress: Sendable, Equatable {
        public var created: Int
        /// Created, not yet counted as ended; sorted.
        public var open: [Int]
        public var succeeded: Int
        public var failed: Int
        /// The first failed child's reason, as counted.
        public var firstFailure: String?
    }

    /// An array parent's record and progress; `nil` for a job that is not one.
    public func array(_ parentID: String) throws(AWSError) -> (record: JobRecord, progress: ArrayProgress)? {
        guard let item = try dynamoDB.getItem(.init(tableName: table, key: JobTable.jobKey(parentID), consistentRead: true)).item else { return nil }
        let record = try decode(item)
        guard record.array != nil else { return nil }
        var open: [Int] = []
        if case .ss(let indexes)? = item[.arrayOpen] { open = indexes.compactMap { Int($0) }.sorted() }
        return (record, ArrayProgress(
            created: item[.arrayCreated]?.int ?? 0, open: open, succeeded: item[.arraySucceeded]?.int ?? 0, failed: item[.arrayFailed]?.int ?? 0,
            firstFailure: item[.arrayFirstFailure]?.string))
    }

    /// What one call to `createChildren` made: children RUNNABLE (in the queues, to be started)
    /// and children FAILED at once because what they wait for FAILED (already counted).
    public struct CreatedChildren: Sendable, Equatable {
        public var runnable: [JobRecord] = []
        public var failed: [JobRecord] = []
    }

    /// Creates the parent's next children in index order while fewer than `window` are open and
    /// what each waits for (`JobArrays.prerequisites`) has SUCCEEDED; one whose prerequisite
    /// FAILED is created FAILED, naming it. Stops at the first child that must still wait, so
    /// an array's children start in order. At most `rounds` transactions of 24 children.
    /// `current` is the parent as just read, if it was (saves reading it again).
    public func createChildren(
        _ parentID: String, window: Int, current: (record: JobRecord, progress: ArrayProgress)? = nil, rounds: Int = 8
    ) throws(AWSError) -> CreatedChildren {
        var made = CreatedChildren()
        var known: [String: JobDependencies.Standing] = [:]
        var read = current
        for _ in 0..<rounds {
            let state = if let read { read } else { try array(parentID) }
            read = nil
            guard let (parent, progress) = state, parent.state == .running, let array = parent.array else { break }
            let now = WallClock.unixMilliseconds()
            var room = window - progress.open.count
            var batch: [JobRecord] = []
            var index = progress.created
            creating: while index < array.size, batch.count < Self.childrenPerTransaction {
                let waitsFor = JobArrays.prerequisites(of: index, parent: parentID, array)
                // One made in this batch has not even been written: it is still to run.
                if waitsFor.contains(where: { id in batch.contains { $0.id == id && $0.state == .runnable } }) { break }
                var standings: [(id: String, standing: JobDependencies.Standing)] = []
                for id in waitsFor { standings.append((id, try childStanding(id, known: &known))) }
                let child = ArrayChild(parent: parentID, index: index, size: array.size)
                switch JobDependencies.verdict(standings) {
                case .wait:
                    break creating
                case .release:
                    guard room > 0 else { break creating }
                    room -= 1
                    batch.append(Self.child(parent, child, state: .runnable, reason: "Child \(index) of \(array.size): waiting for a slot", at: now))
                case .fail(let reason):
                    let failed = Self.child(parent, child, state: .failed, reason: reason, at: now)
                    known[failed.id] = JobDependencies.standing(failed.id, (failed, true))
                    batch.append(failed)
                }
                index += 1
            }
            guard !batch.isEmpty else { break }
            guard try writeChildren(batch, of: parent, after: progress) else { continue }  // another creator went first: look again
            made.runnable += batch.filter { $0.state == .runnable }
            made.failed += batch.filter { $0.state == .failed }
            // Stopped by the window, a child that must wait, or the end: the next round would find the same.
            if batch.count < Self.childrenPerTransaction { break }
        }
        return made
    }

    /// moto allows 25 items per transaction (DynamoDB 100): the parent's update and 24 children.
    static let childrenPerTransaction = 24

    /// A child as created: SUBMITTED, then RUNNABLE (in the queues) or FAILED (decided).
    static func child(_ parent: JobRecord, _ child: ArrayChild, state: JobState, reason: String, at now: Int64) -> JobRecord {
        let submitted = "Child \(child.index) of array \(child.parent)"
        return JobRecord(
            id: JobArrays.childID(child.parent, child.index), job: parent.job, parameters: parent.parameters, state: state, statusReason: reason,
            priority: parent.priority, submittedAt: now,
            history: [.init(state: .submitted, at: now, reason: submitted), .init(state: state, at: now, reason: reason)],
            overrides: parent.overrides, arrayChild: child)
    }

    /// A prerequisite's standing; one not created yet has not ended, unless its array has
    /// (cancelled before creating it): then it never will.
    private func childStanding(_ id: String, known: inout [String: JobDependencies.Standing]) throws(AWSError) -> JobDependencies.Standing {
        if let standing = known[id] { return standing }
        guard let outcome = try outcome(id) else {
            guard let parentID = JobArrays.parent(ofChild: id), let (parent, finished) = try outcome(parentID), finished, parent.state == .failed else {
                return .unfinished
            }
            let standing = JobDependencies.Standing.failed(
                reason: "Dependency \(parent.job) \(id) was never created: array \(parentID) FAILED: \(parent.statusReason ?? "no reason recorded")")
            known[id] = standing
            return standing
        }
        let standing = JobDependencies.standing(id, outcome)
        if standing != .unfinished { known[id] = standing }
        return standing
    }

    /// The children and the parent's progress in one transaction, on the condition that no one
    /// has created children since `progress` was read. `false` when someone had.
    private func writeChildren(_ children: [JobRecord], of parent: JobRecord, after progress: ArrayProgress) throws(AWSError) -> Bool {
        let now = WallClock.unixMilliseconds()
        let opened = children.filter { $0.state == .runnable }.compactMap { $0.arrayChild.map { String($0.index) } }
        let failed = children.filter { $0.state == .failed }
        var values: DynamoDB.Item = [
            ":created": .number(progress.created), ":next": .number(progress.created + children.count), ":running": .s(JobState.running.rawValue),
            ":now": .number(now),
        ]
        var update = "SET #arrayCreated = :next, #updatedAt = :now"
        var names = JobTable.names([.arrayCreated, .state, .updatedAt])
        if let first = failed.first {
            values[":failed"] = .number(failed.count)
            values[":first"] = .s("child \(first.arrayChild?.index ?? 0): \(first.statusReason ?? "")")
            update += ", #arrayFirstFailure = if_not_exists(#arrayFirstFailure, :first) ADD #arrayFailed :failed"
            names.merge(JobTable.names([.arrayFirstFailure, .arrayFailed])) { $1 }
        }
        if !opened.isEmpty {
            values[":opened"] = .ss(opened)
            update += (failed.isEmpty ? " ADD " : ", ") + "#arrayOpen :opened"
            names.merge(JobTable.names([.arrayOpen])) { $1 }
        }
        let parentUpdate = DynamoDB.TransactWriteItem.update(.init(
            tableName: table, key: JobTable.jobKey(parent.id), updateExpression: update,
            conditionExpression: "#state = :running AND #arrayCreated = :created", expressionAttributeNames: names, expressionAttributeValues: values))
        let puts = children.map { child -> DynamoDB.TransactWriteItem in
            var item = JobTable.item(child)
            if child.state.isFinal {
                item[.settledAt] = .number(now)
                item[.expiresAt] = .number(now / 1000 + JobTable.retentionSeconds)
            }
            return .put(.init(tableName: table, item: item, conditionExpression: "attribute_not_exists(#pk)", expressionAttributeNames: JobTable.names([.pk])))
        }
        do {
            try retryingConflicts { () throws(AWSError) in try dynamoDB.transactWriteItems([parentUpdate] + puts) }
            return true
        } catch where error.transactionCancellationReasons?.contains(where: { $0.code == "ConditionalCheckFailed" }) == true {
            return false
        }
    }

    /// Counts a child that has ended for good (SUCCEEDED, or FAILED and decided) on its parent,
    /// once: `false` when it was counted before (or is not open).
    public func countChild(_ child: JobRecord) throws(AWSError) -> Bool {
        guard let place = child.arrayChild, child.state.isFinal else { return false }
        var values: DynamoDB.Item = [":index": .ss([String(place.index)]), ":one": .s(String(place.index)), ":count": .number(1)]
        var names = JobTable.names([.arrayOpen])
        var update = "DELETE #arrayOpen :index ADD "
        if child.state == .succeeded {
            update += "#arraySucceeded :count"
            names.merge(JobTable.names([.arraySucceeded])) { $1 }
        } else {
            update += "#arrayFailed :count SET #arrayFirstFailure = if_not_exists(#arrayFirstFailure, :first)"
            values[":first"] = .s("child \(place.index) (\(child.id)): \(child.statusReason ?? "no reason recorded")")
            names.merge(JobTable.names([.arrayFailed, .arrayFirstFailure])) { $1 }
        }
        do {
            try dynamoDB.updateItem(.init(
                tableName: table, key: JobTable.jobKey(place.parent), updateExpression: update, conditionExpression: "contains(#arrayOpen, :one)",
                expressionAttributeNames: names, expressionAttributeValues: values))
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }

    /// A child that never started → FAILED (`cancelUnstarted`), then counted on its parent: the
    /// child as ended, or `nil` when it moved on meanwhile.
    public func cancelUnstartedChild(_ id: String, attempt: Int, reason: String) throws(AWSError) -> JobRecord? {
        guard try cancelUnstarted(id, attempt: attempt, reason: reason), let failed = try record(id) else { return nil }
        _ = try countChild(failed)
        return failed
    }

    /// Decides a RUNNING parent once every child has been counted: SUCCEEDED when all did,
    /// FAILED when any did not (naming the first). The decided record, or `nil` when it is not
    /// time yet or another writer decided it.
    public func decideArray(_ parentID: String, current: (record: JobRecord, progress: ArrayProgress)? = nil) throws(AWSError) -> JobRecord? {
        let state = if let current { current } else { try array(parentID) }
        guard let (parent, progress) = state, parent.state == .running, let array = parent.array,
              let verdict = JobArrays.verdict(size: array.size, succeeded: progress.succeeded, failed: progress.failed, firstFailure: progress.firstFailure)
        else { return nil }
        guard try transition(parentID, attempt: parent.attempt, from: [.running], to: verdict.state, reason: verdict.reason, set: settled()) else { return nil }
        return try record(parentID)
    }

    /// RUNNING → FAILED, settled, for an operator's cancel: from then on no child is created or
    /// started (both are conditional on the parent RUNNING); ending the children already created
    /// is the canceller's. `false` when it moved on meanwhile.
    public func cancelArray(_ parent: JobRecord, reason: String) throws(AWSError) -> Bool {
        try transition(parent.id, attempt: parent.attempt, from: [.running], to: .failed, reason: reason, set: settled())
    }

    /// PENDING → RUNNING for an array parent whose dependencies succeeded: its children may be created.
    func startArray(_ record: JobRecord, reason: String) throws(AWSError) -> Bool {
        var running = record
        running.state = .running
        return try transition(record.id, attempt: record.attempt, from: [.pending], to: .running, reason: reason, set: JobTable.activeArrayAttributes(running))
    }

    /// The ids of RUNNING array parents, oldest first, one page at a time: for the sweep.
    public func activeArrays(limit: Int, after start: DynamoDB.Item?) throws(AWSError) -> (ids: [String], next: DynamoDB.Item?) {
        try jobIDs(inPartition: JobTable.activeArrays, limit: limit, after: start)
    }

    /// An array's created children, in index order (reads each: for operators).
    public func children(of parent: JobRecord, created: Int) throws(AWSError) -> [JobRecord] {
        var children: [JobRecord] = []
        for index in 0..<created {
            if let child = try record(JobArrays.childID(parent.id, index)) { children.append(child) }
        }
        return children
    }
}
