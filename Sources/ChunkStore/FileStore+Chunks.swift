import AWSCore
import AWSServices

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
        let mayRun = reclaimsOwn ? "(#state <> :running OR leaseUntil < :now OR #owner = :owner)" : "(#state <> :running OR leaseUntil < :now)"
        do {
            let output = try dynamoDB.updateItem(.init(
                tableName: tableName, key: chunkKey(fileID, index),
                updateExpression: "SET #state = :running, #owner = :owner, leaseUntil = :lease, startedAt = :now REMOVE #error ADD attempts :one",
                conditionExpression: "attribute_exists(pk) AND #state <> :done AND \(mayRun)",
                expressionAttributeNames: ["#state": "state", "#owner": "owner", "#error": "error"],
                expressionAttributeValues: [
                    ":running": .s(ChunkState.running.rawValue), ":done": .s(ChunkState.done.rawValue), ":owner": .s(owner),
                    ":lease": .number(leaseUntil), ":now": .number(now), ":one": .number(1),
                ],
                returnValues: .allNew, returnValuesOnConditionCheckFailure: .allOld))
            return .claimed(attempt: output.attributes?["attempts"]?.int ?? 1)
        } catch where error.isConditionalCheckFailed {
            guard let old = error.conditionalCheckFailedItem else { return .missing }
            return old["state"]?.string == ChunkState.done.rawValue ? .done : .busy
        }
    }

    /// Records a finished chunk and adds its counts to the file's, in one transaction (so a
    /// repeated finish cannot count twice); then completes the file when it was the last chunk.
    /// Returns whether the file is now complete.
    @discardableResult
    public func finishChunk(fileID: String, index: Int, owner: String, counts: ChunkCounts, outputs: [String: String], now: Int64) throws(AWSError) -> Bool {
        var update = "SET #state = :done, finishedAt = :now, recordsRead = :read, recordsValid = :valid, recordsRejected = :rejected, recordsDelivered = :delivered"
        var values = countValues(counts)
        values[":done"] = .s(ChunkState.done.rawValue)
        values[":now"] = .number(now)
        values[":owner"] = .s(owner)
        values[":running"] = .s(ChunkState.running.rawValue)
        for (name, value) in outputs.sorted(by: { $0.key < $1.key }) {
            update += ", \(name) = :\(name)"
            values[":\(name)"] = .s(value)
        }
        try dynamoDB.transactWriteItems([
            .update(.init(
                tableName: tableName, key: chunkKey(fileID, index), updateExpression: update + " REMOVE leaseUntil",
                conditionExpression: "#state = :running AND #owner = :owner", expressionAttributeNames: ["#state": "state", "#owner": "owner"],
                expressionAttributeValues: values)),
            .update(.init(
                tableName: tableName, key: fileKey(fileID),
                updateExpression: "ADD chunksDone :one, recordsRead :read, recordsValid :valid, recordsRejected :rejected, recordsDelivered :delivered",
                expressionAttributeValues: countValues(counts).merging([":one": .number(1)]) { $1 })),
        ])
        return try completeIfDone(fileID: fileID, now: now)
    }

    /// Makes the file COMPLETE, and no longer under way, once every chunk is done; false when some
    /// are not (or its chunk count is not known yet) or it was COMPLETE already.
    func completeIfDone(fileID: String, now: Int64) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: fileKey(fileID), updateExpression: "SET #state = :complete, completedAt = :now REMOVE gsi2pk, gsi2sk",
                conditionExpression: "chunksDone = chunkCount AND #state <> :complete", expressionAttributeNames: ["#state": "state"],
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
            tableName: tableName, key: chunkKey(fileID, index),
            updateExpression: "SET #state = :state, #error = :reason, stoppedAt = :now, recordsRead = :read, recordsValid = :valid, recordsRejected = :rejected, recordsDelivered = :delivered REMOVE leaseUntil",
            conditionExpression: "#owner = :owner", expressionAttributeNames: ["#state": "state", "#error": "error", "#owner": "owner"],
            expressionAttributeValues: values))
    }

    private func countValues(_ counts: ChunkCounts) -> DynamoDB.Item {
        [":read": .number(counts.read), ":valid": .number(counts.valid), ":rejected": .number(counts.rejected), ":delivered": .number(counts.delivered)]
    }
}
