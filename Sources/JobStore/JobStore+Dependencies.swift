import AWSCore
import AWSServices
import JobModel
import TableSchema

/// Resolving PENDING jobs against their dependencies (`JobDependencies` decides, this writes).
extension JobStore {
    /// What happened to one PENDING job when its dependencies were looked at.
    public enum Resolution: Sendable, Equatable {
        /// PENDING → RUNNABLE: in the queues now (an array's parent: RUNNING, its children to be created).
        case released(JobRecord)
        /// PENDING → FAILED, decided for good (never retried).
        case failed(JobRecord)
        /// Still PENDING: these dependencies have not ended.
        case waiting([String])
        /// Not PENDING (anymore): another resolver, or a cancel, moved it first.
        case unchanged(JobRecord?)
    }

    /// How each of `ids` stands; `known` holds standings already read (ended ones never change).
    public func standings(_ ids: [String], known: inout [String: JobDependencies.Standing]) throws(AWSError) -> [(id: String, standing: JobDependencies.Standing)] {
        var standings: [(id: String, standing: JobDependencies.Standing)] = []
        for id in ids {
            if let standing = known[id] {
                standings.append((id, standing))
                continue
            }
            let standing = JobDependencies.standing(id, try outcome(id))
            if standing != .unfinished { known[id] = standing }
            standings.append((id, standing))
        }
        return standings
    }

    /// Looks at a PENDING job's dependencies and moves it if they have decided: RUNNABLE when
    /// all SUCCEEDED, FAILED (and settled) when one FAILED for good.
    public func resolve(_ id: String, known: inout [String: JobDependencies.Standing]) throws(AWSError) -> Resolution {
        guard let record = try record(id), record.state == .pending else { return .unchanged(try record(id)) }
        switch JobDependencies.verdict(try standings(record.dependsOn, known: &known)) {
        case .wait(let ids):
            return .waiting(ids)
        case .release:
            var runnable = record
            runnable.state = .runnable
            let reason = "Dependencies succeeded: \(record.dependsOn.joined(separator: ", "))"
            // An array's parent runs no instance: RUNNING, its children to be created.
            let moved = record.array != nil
                ? try startArray(record, reason: reason)
                : try transition(id, attempt: record.attempt, from: [.pending], to: .runnable, reason: reason, set: JobTable.queueAttributes(runnable))
            guard moved else { return .unchanged(try self.record(id)) }
            return .released(try self.record(id) ?? runnable)
        case .fail(let reason):
            guard try transition(id, attempt: record.attempt, from: [.pending], to: .failed, reason: reason, set: settled()) else {
                return .unchanged(try self.record(id))
            }
            var failed = record
            failed.state = .failed
            failed.statusReason = reason
            return .failed(try self.record(id) ?? failed)
        }
    }

    /// After `id` has ended for good: its PENDING dependents resolved, and the dependents of
    /// those that fail in turn, breadth first. At most `limit` dependents are looked at; the
    /// sweep resolves any left over. Released and failed ones are returned, in order.
    public func resolveDependents(of id: String, limit: Int = 200) throws(AWSError) -> [Resolution] {
        var ended = [id]
        var looked = 0
        var seen: Set<String> = []
        var known: [String: JobDependencies.Standing] = [:]
        var moved: [Resolution] = []
        while !ended.isEmpty, looked < limit {
            guard let record = try record(ended.removeFirst()) else { continue }
            for dependent in record.dependents where seen.insert(dependent).inserted && looked < limit {
                looked += 1
                let resolution = try resolve(dependent, known: &known)
                switch resolution {
                case .released: moved.append(resolution)
                case .failed:
                    moved.append(resolution)
                    ended.append(dependent)
                case .waiting, .unchanged: break
                }
            }
        }
        return moved
    }

    /// The ids of PENDING jobs, oldest first within each priority, one page at a time.
    public func pending(limit: Int, after start: DynamoDB.Item?) throws(AWSError) -> (ids: [String], next: DynamoDB.Item?) {
        try jobIDs(inPartition: JobTable.pendingQueue, limit: limit, after: start)
    }

    /// One page of the job ids in a partition of `gsi2`, in its order.
    func jobIDs(inPartition partition: String, limit: Int, after start: DynamoDB.Item?) throws(AWSError) -> (ids: [String], next: DynamoDB.Item?) {
        let page = try dynamoDB.query(.init(
            tableName: table, indexName: JobTable.globalQueueIndex, keyConditionExpression: "#gsi2pk = :partition", projectionExpression: "#jobId",
            expressionAttributeNames: JobTable.names([.gsi2pk, .jobID]), expressionAttributeValues: [":partition": .s(partition)],
            limit: limit, exclusiveStartKey: start))
        return (page.items.compactMap { $0[.jobID]?.string }, page.lastEvaluatedKey)
    }

    /// The transaction item that adds `dependent` to the `dependents` of `dependency`, which must exist.
    func dependencyEdge(from dependent: String, to dependency: String) -> DynamoDB.TransactWriteItem {
        .update(.init(
            tableName: table, key: JobTable.jobKey(dependency), updateExpression: "ADD #dependents :id", conditionExpression: "attribute_exists(#pk)",
            expressionAttributeNames: JobTable.names([.dependents, .pk]), expressionAttributeValues: [":id": .ss([dependent])]))
    }
}
