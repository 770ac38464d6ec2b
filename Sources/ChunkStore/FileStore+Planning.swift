import AWSCore
import AWSServices
import ChunkPlanning
import TableSchema
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Planning a file over several invocations: one `PLANNING` item per file (`sk = PLANNING`)
/// holds the latest checkpoint, overwritten in place, so a file's items stay bounded by its
/// chunks plus two (the file and its planning item), plus its event's claim.
///
/// `generation` numbers the invocations a file's planning is handed through (0: the S3 event's);
/// each continuation is invoked with the generation it is to run, and only that generation may
/// take the lease. `sequence` counts checkpoints: every write is conditional on the one it follows.
extension FileStore {
    public struct PlanningState: Sendable, Equatable {
        public enum Phase: String, Sendable { case planning = "PLANNING", done = "DONE", failed = "FAILED" }
        public var phase: Phase
        public var generation: Int
        public var sequence: Int
        /// The newest generation that took the lease.
        public var startedGeneration: Int
        public var leaseUntil: Int64
        /// Nil before the first checkpoint: planning starts at the first byte.
        public var checkpoint: PlanCheckpoint?
        /// Chunks from this index on may be planned but not yet dispatched (Batch chunks waiting to fill an array job).
        public var undispatchedFrom: Int
        public var reason: String?
    }

    public enum PlanningClaim: Sendable, Equatable {
        case claimed(PlanningState)
        /// The generation is running elsewhere under an unexpired lease.
        case busy(leaseUntil: Int64)
        /// Planning went on to a later generation (started, or not yet: then it may need invoking again).
        case handedOn(generation: Int, started: Bool)
        /// Planning is over (DONE or FAILED).
        case finished(PlanningState.Phase)
        case missing
    }

    /// Creates the file item (PLANNING) and its planning item, unless they exist already (a retried event).
    public func startPlanning(_ file: FileRecord) throws(AWSError) {
        let planning = JobTable.planningKey(file.fileID).with([
            .kind: .s(JobTable.ItemKind.planning.rawValue), .phase: .s(PlanningState.Phase.planning.rawValue),
            .generation: .number(0), .sequence: .number(0), .startedGeneration: .number(-1), .leaseUntil: .number(0),
            .undispatchedFrom: .number(0), .expiresAt: .number(file.expiresAt),
        ])
        // No chunkCount while planned: a chunk finished meanwhile cannot complete the file.
        var fileItem = file.item
        fileItem[.chunkCount] = nil
        do {
            try dynamoDB.transactWriteItems([
                .put(.init(tableName: tableName, item: fileItem, conditionExpression: "attribute_not_exists(#pk)", expressionAttributeNames: JobTable.names([.pk]))),
                .put(.init(tableName: tableName, item: planning, conditionExpression: "attribute_not_exists(#pk)", expressionAttributeNames: JobTable.names([.pk]))),
            ])
        } catch where error.lostCondition {
            return
        }
    }

    public func loadPlanning(_ fileID: String) throws(AWSError) -> PlanningState? {
        guard let item = try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.planningKey(fileID), consistentRead: true)).item else { return nil }
        return PlanningState(item: item)
    }

    /// Takes the lease for `generation`: only when that generation is the current one, planning
    /// is not over, and no unexpired lease is held (a killed or timed-out run's lease passes).
    public func claimPlanning(fileID: String, generation: Int, now: Int64, leaseUntil: Int64) throws(AWSError) -> PlanningClaim {
        do {
            let output = try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.planningKey(fileID),
                updateExpression: "SET #leaseUntil = :lease, #startedGeneration = :g",
                conditionExpression: "#generation = :g AND #phase = :planning AND #leaseUntil < :now",
                expressionAttributeNames: JobTable.names([.leaseUntil, .startedGeneration, .generation, .phase]),
                expressionAttributeValues: [
                    ":g": .number(generation), ":planning": .s(PlanningState.Phase.planning.rawValue), ":lease": .number(leaseUntil), ":now": .number(now),
                ],
                returnValues: .allNew, returnValuesOnConditionCheckFailure: .allOld))
            guard let state = output.attributes.flatMap(PlanningState.init(item:)) else { return .missing }
            return .claimed(state)
        } catch where error.isConditionalCheckFailed {
            guard let old = error.conditionalCheckFailedItem.flatMap(PlanningState.init(item:)) else { return .missing }
            if old.phase != .planning { return .finished(old.phase) }
            if old.generation > generation { return .handedOn(generation: old.generation, started: old.startedGeneration >= old.generation) }
            if old.generation < generation { return .missing }
            return .busy(leaseUntil: old.leaseUntil)
        }
    }

    /// Writes checkpoint `sequence + 1` over `sequence` (which this run must still hold), with the
    /// file's progress. `handOff` moves planning to the next generation and gives the lease up.
    /// Fails with `lostCondition` when another run has moved on: this one must stop.
    public func saveCheckpoint(
        fileID: String, generation: Int, sequence: Int, _ checkpoint: PlanCheckpoint, undispatchedFrom: Int, handOff: Bool
    ) throws {
        let encoded = try JSONEncoder().encode(checkpoint)
        var update = "SET #sequence = :next, #checkpoint = :checkpoint, #undispatchedFrom = :undispatched, #checkpointOffset = :offset"
        var names: [JobTable.Attribute] = [.sequence, .checkpoint, .undispatchedFrom, .checkpointOffset, .generation]
        var values: DynamoDB.Item = [
            ":g": .number(generation), ":sequence": .number(sequence), ":next": .number(sequence + 1), ":checkpoint": .b(encoded),
            ":undispatched": .number(undispatchedFrom), ":offset": .number(checkpoint.offset),
        ]
        if handOff {
            update += ", #generation = :handedTo, #leaseUntil = :zero"
            names.append(.leaseUntil)
            values[":handedTo"] = .number(generation + 1)
            values[":zero"] = .number(0)
        }
        try dynamoDB.transactWriteItems([
            .update(.init(
                tableName: tableName, key: JobTable.planningKey(fileID), updateExpression: update,
                conditionExpression: "#generation = :g AND #sequence = :sequence", expressionAttributeNames: JobTable.names(names),
                expressionAttributeValues: values)),
            // The file's progress, for `sortie file` while it is planned.
            .update(.init(
                tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: "SET #records = :records, #bytes = :bytes, #chunksPlanned = :chunks",
                expressionAttributeNames: JobTable.names([.records, .bytes, .chunksPlanned]),
                expressionAttributeValues: [
                    ":records": .number(checkpoint.records), ":bytes": .number(checkpoint.offset), ":chunks": .number(checkpoint.chunksPlanned),
                ])),
        ])
    }

    /// Ends planning: the file gets its totals and is DISPATCHED (or COMPLETE, when every chunk is done already).
    public func finishPlanning(fileID: String, generation: Int, sequence: Int, plan: FilePlan, chunkCount: Int, now: Int64) throws(AWSError) {
        var fileUpdate = "SET #state = :dispatched, #records = :records, #bytes = :bytes, #chunkCount = :count, #chunksPlanned = :count"
        var fileNames: [JobTable.Attribute] = [.state, .records, .bytes, .chunkCount, .chunksPlanned]
        var values: DynamoDB.Item = [
            ":dispatched": .s(FileRecord.State.dispatched.rawValue), ":records": .number(plan.records), ":bytes": .number(plan.bytes),
            ":count": .number(chunkCount), ":planning": .s(FileRecord.State.planning.rawValue),
        ]
        if let columns = plan.columns {
            fileUpdate += ", #columns = :columns"
            fileNames.append(.columns)
            values[":columns"] = .l(columns.map { .s($0) })
        }
        try dynamoDB.transactWriteItems([
            .update(.init(
                tableName: tableName, key: JobTable.planningKey(fileID),
                updateExpression: "SET #phase = :done, #sequence = :next, #leaseUntil = :zero REMOVE #checkpoint",
                conditionExpression: "#generation = :g AND #sequence = :sequence",
                expressionAttributeNames: JobTable.names([.phase, .sequence, .leaseUntil, .checkpoint, .generation]),
                expressionAttributeValues: [
                    ":done": .s(PlanningState.Phase.done.rawValue), ":g": .number(generation), ":sequence": .number(sequence),
                    ":next": .number(sequence + 1), ":zero": .number(0),
                ])),
            .update(.init(
                tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: fileUpdate, conditionExpression: "#state = :planning",
                expressionAttributeNames: JobTable.names(fileNames),
                expressionAttributeValues: values)),
        ])
        // Chunks that finished while the file was planned could not complete it (it had no chunkCount yet).
        _ = try completeIfDone(fileID: fileID, now: now)
    }

    /// Stops a file's planning for good, with why (the object changed, or cannot be read): FAILED as a
    /// failed chunk leaves it (no longer under way, `failedReason`), but naming no chunk.
    public func failPlanning(fileID: String, reason: String, now: Int64) throws(AWSError) {
        let text = String(reason.prefix(2000))
        try dynamoDB.transactWriteItems([
            .update(.init(
                tableName: tableName, key: JobTable.planningKey(fileID), updateExpression: "SET #phase = :failed, #reason = :reason, #leaseUntil = :zero",
                expressionAttributeNames: JobTable.names([.phase, .reason, .leaseUntil]),
                expressionAttributeValues: [":failed": .s(PlanningState.Phase.failed.rawValue), ":reason": .s(text), ":zero": .number(0)])),
            .update(.init(
                tableName: tableName, key: JobTable.fileKey(fileID),
                updateExpression: "SET #state = :failed, #failedAt = :now, #failedReason = :reason REMOVE #gsi2pk, #gsi2sk",
                expressionAttributeNames: JobTable.names([.state, .failedAt, .failedReason, .gsi2pk, .gsi2sk]),
                expressionAttributeValues: [":failed": .s(FileRecord.State.failed.rawValue), ":reason": .s(text), ":now": .number(now)])),
        ])
    }

    /// Writes a planned chunk's item unless it exists; returns the state of the one that was there
    /// (a chunk a killed run had planned already), or nil when this call wrote it.
    public func putChunk(_ chunk: ChunkRecord, expiresAt: Int64) throws(AWSError) -> ChunkRecord? {
        do {
            try dynamoDB.putItem(.init(
                tableName: tableName, item: chunk.item(expiresAt: expiresAt), conditionExpression: "attribute_not_exists(#pk)",
                expressionAttributeNames: JobTable.names([.pk]), returnValuesOnConditionCheckFailure: .allOld))
            return nil
        } catch where error.isConditionalCheckFailed {
            return error.conditionalCheckFailedItem.flatMap(ChunkRecord.init(item:)) ?? chunk
        }
    }

    /// A file's own item, without its chunks (its plan lists none).
    public func fileItem(_ fileID: String) throws(AWSError) -> FileRecord? {
        try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.fileKey(fileID), consistentRead: true)).item.flatMap { FileRecord(item: $0, chunks: []) }
    }

    /// The header's column names, on the file item as soon as they are read.
    public func setColumns(fileID: String, _ columns: [String]) throws(AWSError) {
        try dynamoDB.updateItem(.init(
            tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: "SET #columns = :columns", expressionAttributeNames: JobTable.names([.columns]),
            expressionAttributeValues: [":columns": .l(columns.map { .s($0) })]))
    }
}

extension FileStore.PlanningState {
    init?(item: DynamoDB.Item) {
        guard let phase = item[.phase]?.string.flatMap(Phase.init), let generation = item[.generation]?.int,
              let sequence = item[.sequence]?.int else { return nil }
        var checkpoint: PlanCheckpoint?
        if case .b(let data)? = item[.checkpoint] { checkpoint = try? JSONDecoder().decode(PlanCheckpoint.self, from: data) }
        self.init(
            phase: phase, generation: generation, sequence: sequence, startedGeneration: item[.startedGeneration]?.int ?? -1,
            leaseUntil: item[.leaseUntil]?.int64 ?? 0, checkpoint: checkpoint, undispatchedFrom: item[.undispatchedFrom]?.int ?? 0,
            reason: item[.reason]?.string)
    }
}

extension AWSError {
    /// A single write's condition, or one of a transaction's, was false.
    public var lostCondition: Bool {
        isConditionalCheckFailed || (transactionCancellationReasons?.contains { $0.code == "ConditionalCheckFailed" } ?? false)
    }

    /// A transaction cancelled for a conflict with another on the same item, and for nothing else.
    var onlyConflicted: Bool {
        guard let codes = transactionCancellationReasons?.map(\.code) else { return false }
        return codes.contains("TransactionConflict") && codes.allSatisfy { $0 == "TransactionConflict" || $0 == "None" }
    }
}
