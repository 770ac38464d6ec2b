import AWSCore
import AWSServices
import ChunkPlanning
import TableSchema
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A file's progress as its item counts it (the plan aside): what `sortie file` shows and the
/// failure notification tells, read without a chunk. Every count moves in the same write as the
/// chunk change it counts, conditional on that change, so a repeated or concurrent ending counts once.
public struct FileProgress: Sendable, Equatable {
    public var file: FileRecord
    /// The plan's chunks; 0 while the file is planned (`chunksPlanned` counts them so far).
    public var chunkCount: Int
    /// Chunks planned as of the last planning checkpoint.
    public var chunksPlanned: Int
    public var chunksDone: Int
    /// Chunks decided FAILED for good (a redrive takes them off again).
    public var chunksFailed: Int
    /// The records the DONE chunks counted.
    public var counts: ChunkCounts
    public var completedAt: Int64?
    public var failedAt: Int64?
    /// The chunk whose failure failed the file, and why.
    public var failedChunk: Int?
    public var failedReason: String?
    /// How often `sortie redrive` re-ran the file's failed chunks.
    public var redrives: Int

    init?(item: DynamoDB.Item) {
        guard let file = FileRecord(item: item, chunks: []) else { return nil }
        self.file = file
        chunkCount = item[.chunkCount]?.int ?? 0
        chunksPlanned = item[.chunksPlanned]?.int ?? chunkCount
        chunksDone = item[.chunksDone]?.int ?? 0
        chunksFailed = item[.chunksFailed]?.int ?? 0
        counts = ChunkCounts(
            read: item[.recordsRead]?.int64 ?? 0, valid: item[.recordsValid]?.int64 ?? 0, rejected: item[.recordsRejected]?.int64 ?? 0,
            delivered: item[.recordsDelivered]?.int64 ?? 0)
        completedAt = item[.completedAt]?.int64
        failedAt = item[.failedAt]?.int64
        failedChunk = item[.failedChunk]?.int
        failedReason = item[.failedReason]?.string
        redrives = item[.redrives]?.int ?? 0
    }

    /// The chunks there are, as far as known: the plan's, or those planned so far.
    public var chunksKnown: Int { chunkCount > 0 ? chunkCount : chunksPlanned }
}

/// What the sweep needs of a chunk beyond its record: who ran it and when, and whether its end
/// was decided (`decidedAt`: a FAILED chunk with it failed for good; no attempt follows).
public struct ChunkAttempts: Sendable, Equatable {
    /// Claims so far (each Lambda delivery or Batch attempt that started counts one).
    public var attempts: Int
    /// How often the sweep sent the chunk again.
    public var retries: Int
    /// The Lambda request id, or `batch:<job id>`, of the last claim.
    public var owner: String?
    public var dispatchedAt: Int64?
    public var startedAt: Int64?
    public var leaseUntil: Int64?
    public var stoppedAt: Int64?
    public var decidedAt: Int64?
    public var rejectsKey: String?

    public init(
        attempts: Int, retries: Int = 0, owner: String? = nil, dispatchedAt: Int64? = nil, startedAt: Int64? = nil, leaseUntil: Int64? = nil,
        stoppedAt: Int64? = nil, decidedAt: Int64? = nil, rejectsKey: String? = nil
    ) {
        self.attempts = attempts
        self.retries = retries
        self.owner = owner
        self.dispatchedAt = dispatchedAt
        self.startedAt = startedAt
        self.leaseUntil = leaseUntil
        self.stoppedAt = stoppedAt
        self.decidedAt = decidedAt
        self.rejectsKey = rejectsKey
    }

    init(item: DynamoDB.Item) {
        attempts = item[.attempts]?.int ?? 0
        retries = item[.sweepRetries]?.int ?? 0
        owner = item[.owner]?.string
        dispatchedAt = item[.dispatchedAt]?.int64
        startedAt = item[.startedAt]?.int64
        leaseUntil = item[.leaseUntil]?.int64
        stoppedAt = item[.stoppedAt]?.int64
        decidedAt = item[.decidedAt]?.int64
        rejectsKey = item[.rejectsKey]?.string
    }
}

/// The file pipeline's endings: a chunk failed for good fails its file (once, so it is announced
/// once), the files still under way for the sweep, and a failed file's redrive. Every write is
/// conditional on the state it leaves, so repeated and out-of-order deciders decide once.
extension FileStore {
    public enum ChunkVerdict: Sendable, Equatable {
        /// Decided FAILED now; `fileFailed`: this call failed the file (announce it).
        case failed(fileFailed: Bool)
        /// Decided before, or DONE meanwhile: nothing changed.
        case unchanged
        /// No such chunk.
        case missing
    }

    /// Decides a chunk FAILED for good with `reason`, unless it is DONE or decided already, and
    /// counts it on its file in the same transaction (so a repeated decision counts nothing); then
    /// fails its file if it is still under way.
    public func failChunk(fileID: String, index: Int, reason: String, now: Int64) throws(AWSError) -> ChunkVerdict {
        do {
            try transact([
                .update(.init(
                    tableName: tableName, key: JobTable.chunkKey(fileID, index),
                    updateExpression: "SET #state = :failed, #error = :reason, #decidedAt = :now REMOVE #leaseUntil",
                    conditionExpression: "attribute_exists(#pk) AND #state <> :done AND attribute_not_exists(#decidedAt)",
                    expressionAttributeNames: JobTable.names([.pk, .state, .error, .decidedAt, .leaseUntil]),
                    expressionAttributeValues: [
                        ":failed": .s(ChunkState.failed.rawValue), ":done": .s(ChunkState.done.rawValue),
                        ":reason": .s(String(reason.prefix(2000))), ":now": .number(now),
                    ])),
                countFailed(fileID: fileID, by: 1),
            ])
        } catch where error.lostCondition {
            return try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.chunkKey(fileID, index), consistentRead: true)).item == nil ? .missing : .unchanged
        }
        return .failed(fileFailed: try failFile(fileID: fileID, chunk: index, reason: reason, now: now))
    }

    /// Moves the file's count of chunks decided FAILED, with the decision (or redrive) it counts.
    /// Only on an existing file item: an ADD would otherwise make one of just the count.
    private func countFailed(fileID: String, by step: Int) -> DynamoDB.TransactWriteItem {
        .update(.init(
            tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: "ADD #chunksFailed :step", conditionExpression: "attribute_exists(#pk)",
            expressionAttributeNames: JobTable.names([.chunksFailed, .pk]), expressionAttributeValues: [":step": .number(step)]))
    }

    /// Moves a file under way to FAILED, naming the chunk; false when it was not under way (already
    /// FAILED or COMPLETE). Also what the sweep calls for a file whose chunk was decided but whose
    /// own write was lost.
    public func failFile(fileID: String, chunk: Int, reason: String, now: Int64) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.fileKey(fileID),
                updateExpression: "SET #state = :failed, #failedAt = :now, #failedChunk = :chunk, #failedReason = :reason REMOVE #gsi2pk, #gsi2sk",
                conditionExpression: "#state IN (:planning, :planned, :dispatched)",
                expressionAttributeNames: JobTable.names([.state, .failedAt, .failedChunk, .failedReason, .gsi2pk, .gsi2sk]),
                expressionAttributeValues: [
                    ":failed": .s(FileRecord.State.failed.rawValue), ":planning": .s(FileRecord.State.planning.rawValue),
                    ":planned": .s(FileRecord.State.planned.rawValue), ":dispatched": .s(FileRecord.State.dispatched.rawValue),
                    ":now": .number(now), ":chunk": .number(chunk),
                    ":reason": .s(String(reason.prefix(2000))),
                ]))
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }

    /// Makes a chunk the sweep retries PLANNED again, to be dispatched as new (its attempts and last
    /// error kept). Conditional on the attempt count and state the sweep saw: one sweep retries it.
    public func requeueChunk(fileID: String, index: Int, sawAttempts: Int, sawState: ChunkState, now: Int64) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.chunkKey(fileID, index),
                updateExpression: "SET #state = :planned, #retriedAt = :now REMOVE #leaseUntil, #batchJobId, #batchArrayIndex ADD #sweepRetries :one",
                conditionExpression: "#attempts = :attempts AND #state = :state AND attribute_not_exists(#decidedAt)",
                expressionAttributeNames: JobTable.names([.state, .retriedAt, .leaseUntil, .batchJobID, .batchArrayIndex, .sweepRetries, .attempts, .decidedAt]),
                expressionAttributeValues: [
                    ":planned": .s(ChunkState.planned.rawValue), ":now": .number(now), ":attempts": .number(sawAttempts), ":state": .s(sawState.rawValue),
                    ":one": .number(1),
                ]))
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }

    /// The files under way (PLANNED or DISPATCHED), oldest first.
    public func activeFiles() throws(AWSError) -> [FileProgress] {
        var files: [FileProgress] = []
        var start: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.query(.init(
                tableName: tableName, indexName: JobTable.activeFilesIndex, keyConditionExpression: "#gsi2pk = :active",
                expressionAttributeNames: JobTable.names([.gsi2pk]), expressionAttributeValues: [":active": .s(JobTable.activeFiles)], exclusiveStartKey: start))
            files += page.items.compactMap(FileProgress.init(item:))
            start = page.lastEvaluatedKey
        } while start != nil
        return files
    }

    /// Every file created at or after `since` (ms since the epoch), in `state` if given, newest
    /// first. A scan: for operators (`sortie files`), not for handlers.
    public func listFiles(state: FileRecord.State?, since: Int64) throws(AWSError) -> [FileProgress] {
        var filter = "begins_with(#pk, :file) AND #sk = :sk AND #createdAt >= :since"
        var values: DynamoDB.Item = [":file": .s(JobTable.filePrefix), ":sk": .s(JobTable.fileSort), ":since": .number(since)]
        var names: [JobTable.Attribute] = [.pk, .sk, .createdAt]
        if let state {
            filter += " AND #state = :state"
            values[":state"] = .s(state.rawValue)
            names.append(.state)
        }
        var files: [FileProgress] = []
        var start: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.scan(.init(
                tableName: tableName, filterExpression: filter, expressionAttributeNames: JobTable.names(names), expressionAttributeValues: values,
                exclusiveStartKey: start, consistentRead: true))
            files += page.items.compactMap(FileProgress.init(item:))
            start = page.lastEvaluatedKey
        } while start != nil
        return files.sorted { ($0.file.createdAt, $0.file.fileID) > ($1.file.createdAt, $1.file.fileID) }
    }

    /// A file's progress from its item alone (one read, however many chunks), or nil when it has not been planned.
    public func progress(_ fileID: String) throws(AWSError) -> FileProgress? {
        try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.fileKey(fileID), consistentRead: true)).item.flatMap(FileProgress.init(item:))
    }

    public enum RedriveStart: Sendable, Equatable {
        /// These chunks are PLANNED again (with those a resumed redrive left PLANNED): dispatch them.
        case ready(file: FileRecord, chunks: [ChunkRecord])
        /// Nothing failed to re-run: the file is in this state.
        case nothing(FileRecord.State)
        case missing
    }

    /// Makes a FAILED file's failed chunks PLANNED again (attempts from zero) and the file PLANNED
    /// and under way; only those chunks, found by paged queries. A redrive that stopped half-way is
    /// resumed by the next (its file is PLANNED with `redrives` set); any other file is left as it
    /// is, as is one whose planning failed (no chunk failed it: its plan is not whole, so there is
    /// nothing to re-run). A chunk decided FAILED leaves the file's count in the same transaction.
    public func startRedrive(fileID: String, now: Int64) throws(AWSError) -> RedriveStart {
        guard let progress = try progress(fileID) else { return .missing }
        let file = progress.file
        guard (file.state == .failed && progress.failedChunk != nil) || (file.state == .planned && progress.redrives > 0) else {
            return .nothing(file.state)
        }
        for (chunk, attempts) in try chunks(fileID: fileID, in: [.failed, .incomplete]) {
            let decided = attempts.decidedAt != nil
            let reset = DynamoDB.UpdateItemInput(
                tableName: tableName, key: JobTable.chunkKey(fileID, chunk.spec.index),
                updateExpression: "SET #state = :planned, #attempts = :zero, #sweepRetries = :zero, #redrivenAt = :now REMOVE #decidedAt, #error, #batchJobId, #batchArrayIndex, #owner, #leaseUntil",
                conditionExpression: "#state = :seen AND " + (decided ? "attribute_exists(#decidedAt)" : "attribute_not_exists(#decidedAt)"),
                expressionAttributeNames: JobTable.names([
                    .state, .attempts, .sweepRetries, .redrivenAt, .decidedAt, .error, .batchJobID, .batchArrayIndex, .owner, .leaseUntil,
                ]),
                expressionAttributeValues: [
                    ":planned": .s(ChunkState.planned.rawValue), ":seen": .s(chunk.state.rawValue), ":zero": .number(0), ":now": .number(now),
                ])
            do {
                if decided {
                    try transact([.update(reset), countFailed(fileID: fileID, by: -1)])
                } else {
                    try dynamoDB.updateItem(reset)
                }
            } catch where error.lostCondition {
                continue  // another redrive reset it, or it changed meanwhile
            }
        }
        if file.state == .failed {
            do {
                try dynamoDB.updateItem(.init(
                    tableName: tableName, key: JobTable.fileKey(fileID),
                    updateExpression: "SET #state = :planned, #gsi2pk = :active, #gsi2sk = :order REMOVE #failedAt, #failedChunk, #failedReason ADD #redrives :one",
                    conditionExpression: "#state = :failed",
                    expressionAttributeNames: JobTable.names([.state, .gsi2pk, .gsi2sk, .failedAt, .failedChunk, .failedReason, .redrives]),
                    expressionAttributeValues: [
                        ":planned": .s(FileRecord.State.planned.rawValue), ":failed": .s(FileRecord.State.failed.rawValue),
                        ":active": .s(JobTable.activeFiles), ":order": .s(JobTable.activeFileKey(file.createdAt, fileID)), ":one": .number(1),
                    ]))
            } catch where error.isConditionalCheckFailed {
                return .nothing(try self.progress(fileID)?.file.state ?? file.state)
            }
        }
        return .ready(file: file, chunks: try chunks(fileID: fileID, in: [.planned]).map(\.chunk))
    }
}
