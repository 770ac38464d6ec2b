import AWSCore
import AWSServices
import TableSchema

/// The chunk processor's side: claiming a chunk, and recording how it ended.
extension FileStore {
    public enum ChunkClaim: Sendable, Equatable {
        /// This invocation runs the chunk; `attempt` counts from 1.
        case claimed(attempt: Int)
        /// Already processed: a repeated delivery.
        case done
        /// Another invocation is running it and its lease has not passed.
        case busy
        /// No such chunk item (never planned, or expired).
        case missing
    }

    /// Takes a chunk unless it is done or running under someone else's unexpired lease.
    /// `reclaimsOwn`: a chunk running under this very owner is taken back whatever its lease; for an
    /// owner that never runs twice at once (a Batch job: its next attempt starts after the last ended).
    public func claimChunk(fileID: String, index: Int, owner: String, now: Int64, leaseUntil: Int64, reclaimsOwn: Bool = false) throws(AWSError) -> ChunkClaim {
        let mayRun = reclaimsOwn ? "(#state <> :running OR #leaseUntil < :now OR #owner = :owner)" : "(#state <> :running OR #leaseUntil < :now)"
        do {
            let output = try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.chunkKey(fileID, index),
                updateExpression: "SET #state = :running, #owner = :owner, #leaseUntil = :lease, #startedAt = :now REMOVE #error ADD #attempts :one",
                conditionExpression: "attribute_exists(#pk) AND #state <> :done AND \(mayRun)",
                expressionAttributeNames: JobTable.names([.pk, .state, .owner, .leaseUntil, .startedAt, .error, .attempts]),
                expressionAttributeValues: [
                    ":running": .s(ChunkState.running.rawValue), ":done": .s(ChunkState.done.rawValue), ":owner": .s(owner),
                    ":lease": .number(leaseUntil), ":now": .number(now), ":one": .number(1),
                ],
                returnValues: .allNew, returnValuesOnConditionCheckFailure: .allOld))
            return .claimed(attempt: output.attributes?[.attempts]?.int ?? 1)
        } catch where error.isConditionalCheckFailed {
            guard let old = error.conditionalCheckFailedItem else { return .missing }
            return old[.state]?.string == ChunkState.done.rawValue ? .done : .busy
        }
    }

    /// Records a finished chunk and adds its counts to the file's, in one transaction (so a
    /// repeated finish cannot count twice); then completes the file when it was the last chunk.
    /// `outputKey` and `rejectsKey` name the S3 objects it wrote, if any. Returns whether the file is now complete.
    @discardableResult
    public func finishChunk(
        fileID: String, index: Int, owner: String, counts: ChunkCounts, outputKey: String? = nil, rejectsKey: String? = nil, now: Int64
    ) throws(AWSError) -> Bool {
        var update = "SET #state = :done, #finishedAt = :now, " + Self.countUpdates
        var names: [JobTable.Attribute] = [.state, .owner, .finishedAt, .leaseUntil] + Self.countAttributes
        var values = countValues(counts)
        values[":done"] = .s(ChunkState.done.rawValue)
        values[":now"] = .number(now)
        values[":owner"] = .s(owner)
        values[":running"] = .s(ChunkState.running.rawValue)
        for (attribute, value) in [(JobTable.Attribute.outputKey, outputKey), (.rejectsKey, rejectsKey)] {
            guard let value else { continue }
            update += ", #\(attribute.rawValue) = :\(attribute.rawValue)"
            names.append(attribute)
            values[":\(attribute.rawValue)"] = .s(value)
        }
        try transact([
            .update(.init(
                tableName: tableName, key: JobTable.chunkKey(fileID, index), updateExpression: update + " REMOVE #leaseUntil",
                conditionExpression: "#state = :running AND #owner = :owner", expressionAttributeNames: JobTable.names(names),
                expressionAttributeValues: values)),
            .update(.init(
                tableName: tableName, key: JobTable.fileKey(fileID),
                updateExpression: "ADD #chunksDone :one, #recordsRead :read, #recordsValid :valid, #recordsRejected :rejected, #recordsDelivered :delivered",
                expressionAttributeNames: JobTable.names([.chunksDone] + Self.countAttributes),
                expressionAttributeValues: countValues(counts).merging([":one": .number(1)]) { $1 })),
        ])
        return try completeIfDone(fileID: fileID, now: now)
    }

    /// Makes the file COMPLETE, and no longer under way, once every chunk is done; false when some
    /// are not (or its chunk count is not known yet) or it was COMPLETE already.
    func completeIfDone(fileID: String, now: Int64) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: "SET #state = :complete, #completedAt = :now REMOVE #gsi2pk, #gsi2sk",
                conditionExpression: "#chunksDone = #chunkCount AND #state <> :complete",
                expressionAttributeNames: JobTable.names([.state, .completedAt, .gsi2pk, .gsi2sk, .chunksDone, .chunkCount]),
                expressionAttributeValues: [":complete": .s(FileRecord.State.complete.rawValue), ":now": .number(now)]))
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }

    /// Records a chunk that stopped: FAILED, or INCOMPLETE when it would not have finished in time.
    public func stopChunk(fileID: String, index: Int, owner: String, state: ChunkState, reason: String, counts: ChunkCounts, now: Int64) throws(AWSError) {
        var values = countValues(counts)
        values[":state"] = .s(state.rawValue)
        values[":reason"] = .s(String(reason.prefix(2000)))
        values[":now"] = .number(now)
        values[":owner"] = .s(owner)
        try dynamoDB.updateItem(.init(
            tableName: tableName, key: JobTable.chunkKey(fileID, index),
            updateExpression: "SET #state = :state, #error = :reason, #stoppedAt = :now, " + Self.countUpdates + " REMOVE #leaseUntil",
            conditionExpression: "#owner = :owner",
            expressionAttributeNames: JobTable.names([.state, .error, .stoppedAt, .leaseUntil, .owner] + Self.countAttributes),
            expressionAttributeValues: values))
    }

    /// A chunk's counts as an update sets them, from `countValues`.
    private static let countUpdates = "#recordsRead = :read, #recordsValid = :valid, #recordsRejected = :rejected, #recordsDelivered = :delivered"
    private static let countAttributes: [JobTable.Attribute] = [.recordsRead, .recordsValid, .recordsRejected, .recordsDelivered]

    private func countValues(_ counts: ChunkCounts) -> DynamoDB.Item {
        [":read": .number(counts.read), ":valid": .number(counts.valid), ":rejected": .number(counts.rejected), ":delivered": .number(counts.delivered)]
    }
}
