import AWSCore
import AWSServices
import ChunkPlanning
import TableSchema
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A file's progress as its item counts it (the plan aside): what `sortie files` lists and the
/// failure notification tells.
public struct FileProgress: Sendable, Equatable {
    public var file: FileRecord
    public var chunkCount: Int
    public var chunksDone: Int
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
        chunksDone = item[.chunksDone]?.int ?? 0
        counts = ChunkCounts(
            read: item[.recordsRead]?.int64 ?? 0, valid: item[.recordsValid]?.int64 ?? 0, rejected: item[.recordsRejected]?.int64 ?? 0,
            delivered: item[.recordsDelivered]?.int64 ?? 0)
        completedAt = item[.completedAt]?.int64
        failedAt = item[.failedAt]?.int64
        failedChunk = item[.failedChunk]?.int
        failedReason = item[.failedReason]?.string
        redrives = item[.redrives]?.int ?? 0
    }
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

    /// Decides a chunk FAILED for good with `reason`, unless it is DONE or decided already; then
    /// fails its file if it is still under way.
    public func failChunk(fileID: String, index: Int, reason: String, now: Int64) throws(AWSError) -> ChunkVerdict {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.chunkKey(fileID, index),
                updateExpression: "SET #state = :failed, #error = :reason, #decidedAt = :now REMOVE #leaseUntil",
                conditionExpression: "attribute_exists(#pk) AND #state <> :done AND attribute_not_exists(#decidedAt)",
                expressionAttributeNames: JobTable.names([.pk, .state, .error, .decidedAt, .leaseUntil]),
                expressionAttributeValues: [
                    ":failed": .s(ChunkState.failed.rawValue), ":done": .s(ChunkState.done.rawValue),
                    ":reason": .s(String(reason.prefix(2000))), ":now": .number(now),
                ],
                returnValuesOnConditionCheckFailure: .allOld))
        } catch where error.isConditionalCheckFailed {
            return error.conditionalCheckFailedItem == nil ? .missing : .unchanged
        }
        return .failed(fileFailed: try failFile(fileID: fileID, chunk: index, reason: reason, now: now))
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

    /// A file's progress and each chunk with its attempts, or nil when it has not been planned.
    public func loadProgress(_ fileID: String) throws(AWSError) -> (progress: FileProgress, chunks: [(chunk: ChunkRecord, attempts: ChunkAttempts)])? {
        let items = try fileItems(fileID)
        guard let fileItem = items.first(where: { $0[.sk]?.string == JobTable.fileSort }), let progress = FileProgress(item: fileItem) else { return nil }
        let chunks = items.filter { $0[.sk]?.string?.hasPrefix(JobTable.chunkPrefix) == true }
            .compactMap { item in ChunkRecord(item: item).map { (chunk: $0, attempts: ChunkAttempts(item: item)) } }
            .sorted { $0.chunk.spec.index < $1.chunk.spec.index }
        return (progress, chunks)
    }

    public enum RedriveStart: Sendable, Equatable {
        /// These chunks are PLANNED again (with those a resumed redrive left PLANNED): dispatch them.
        case ready(chunks: [Int])
        /// Nothing failed to re-run: the file is in this state.
        case nothing(FileRecord.State)
        case missing
    }

    /// Makes a FAILED file's failed chunks PLANNED again (attempts from zero) and the file PLANNED
    /// and under way; only those chunks. A redrive that stopped half-way is resumed by the next
    /// (its file is PLANNED with `redrives` set); any other file is left as it is, as is one whose
    /// planning failed (no chunk failed it: its plan is not whole, so there is nothing to re-run).
    public func startRedrive(fileID: String, now: Int64) throws(AWSError) -> RedriveStart {
        guard let (progress, chunks) = try loadProgress(fileID) else { return .missing }
        let file = progress.file
        guard (file.state == .failed && progress.failedChunk != nil) || (file.state == .planned && progress.redrives > 0) else {
            return .nothing(file.state)
        }
        for (chunk, _) in chunks where chunk.state == .failed || chunk.state == .incomplete {
            do {
                try dynamoDB.updateItem(.init(
                    tableName: tableName, key: JobTable.chunkKey(fileID, chunk.spec.index),
                    updateExpression: "SET #state = :planned, #attempts = :zero, #sweepRetries = :zero, #redrivenAt = :now REMOVE #decidedAt, #error, #batchJobId, #batchArrayIndex, #owner, #leaseUntil",
                    conditionExpression: "#state = :seen",
                    expressionAttributeNames: JobTable.names([
                        .state, .attempts, .sweepRetries, .redrivenAt, .decidedAt, .error, .batchJobID, .batchArrayIndex, .owner, .leaseUntil,
                    ]),
                    expressionAttributeValues: [
                        ":planned": .s(ChunkState.planned.rawValue), ":seen": .s(chunk.state.rawValue), ":zero": .number(0), ":now": .number(now),
                    ]))
            } catch where error.isConditionalCheckFailed {
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
                return .nothing(try loadFile(fileID)?.file.state ?? file.state)
            }
        }
        let planned = try loadFile(fileID)?.chunks.filter { $0.state == .planned }.map(\.spec.index) ?? []
        return .ready(chunks: planned)
    }

    /// Every item of a file's partition: its own and its chunks'.
    func fileItems(_ fileID: String) throws(AWSError) -> [DynamoDB.Item] {
        var items: [DynamoDB.Item] = []
        var startKey: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.query(.init(
                tableName: tableName, keyConditionExpression: "#pk = :pk", expressionAttributeNames: JobTable.names([.pk]),
                expressionAttributeValues: [":pk": .s(JobTable.filePartition(fileID))],
                exclusiveStartKey: startKey, consistentRead: true))
            items += page.items
            startKey = page.lastEvaluatedKey
        } while startKey != nil
        return items
    }
}
