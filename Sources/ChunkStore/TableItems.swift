import AWSCore
import AWSServices
import ChunkPlanning
import RecordFormats
import TableSchema
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A file's place in the job table: `pk = FILE#<fileID>`, `sk = FILE`. Its chunks share the
/// partition (`sk = CHUNK#00000`…), so one Query follows a file to the end.
public struct FileRecord: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Being planned: its chunks are dispatched as they are cut, over one or more invocations.
        case planning = "PLANNING"
        /// Planned, chunks not all dispatched yet.
        case planned = "PLANNED"
        /// Every chunk handed to Lambda or Batch.
        case dispatched = "DISPATCHED"
        /// Every chunk done.
        case complete = "COMPLETE"
        /// Failed for good: planning stopped (the object changed, or could not be read), or a chunk's
        /// retries were spent (`sortie redrive` re-runs the failed chunks). The item says which.
        case failed = "FAILED"
    }

    public var fileID: String
    public var object: ObjectRef
    public var sequencer: String
    public var feed: String
    public var plan: FilePlan
    public var state: State
    public var createdAt: Int64
    public var expiresAt: Int64

    public init(fileID: String, object: ObjectRef, sequencer: String, feed: String, plan: FilePlan, state: State, createdAt: Int64, expiresAt: Int64) {
        self.fileID = fileID
        self.object = object
        self.sequencer = sequencer
        self.feed = feed
        self.plan = plan
        self.state = state
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Where a chunk is processed.
public enum ChunkRoute: String, Sendable, Equatable {
    case lambda, batch
}

/// A chunk's life: PLANNED → QUEUED (Lambda) or SUBMITTED (Batch) → RUNNING → DONE, FAILED or
/// INCOMPLETE (stopped before running out of time).
public enum ChunkState: String, Sendable, Equatable {
    case planned = "PLANNED", queued = "QUEUED", submitted = "SUBMITTED", running = "RUNNING"
    case done = "DONE", failed = "FAILED", incomplete = "INCOMPLETE"
}

/// What a chunk's processing counted.
public struct ChunkCounts: Sendable, Equatable {
    public var read: Int64 = 0
    public var valid: Int64 = 0
    public var rejected: Int64 = 0
    public var delivered: Int64 = 0

    public init(read: Int64 = 0, valid: Int64 = 0, rejected: Int64 = 0, delivered: Int64 = 0) {
        self.read = read
        self.valid = valid
        self.rejected = rejected
        self.delivered = delivered
    }
}

/// One chunk item: `pk = FILE#<fileID>`, `sk = CHUNK#<index, 5 digits>`.
public struct ChunkRecord: Sendable, Equatable {
    public var fileID: String
    public var spec: ChunkSpec
    public var route: ChunkRoute
    public var state: ChunkState
    public var batchJobID: String?
    /// The child index when the chunk runs in a Batch array job.
    public var batchArrayIndex: Int?
    public var counts: ChunkCounts?
    /// Why it last stopped (FAILED or INCOMPLETE), as the processor recorded it.
    public var reason: String?

    public init(
        fileID: String, spec: ChunkSpec, route: ChunkRoute, state: ChunkState, batchJobID: String? = nil, batchArrayIndex: Int? = nil,
        counts: ChunkCounts? = nil, reason: String? = nil
    ) {
        self.fileID = fileID
        self.spec = spec
        self.route = route
        self.state = state
        self.batchJobID = batchJobID
        self.batchArrayIndex = batchArrayIndex
        self.counts = counts
        self.reason = reason
    }

    public var chunkID: String { ChunkTask.chunkID(fileID: fileID, index: spec.index) }
}

extension FileRecord {
    var item: DynamoDB.Item {
        var item = JobTable.fileKey(fileID).with([
            .kind: .s(JobTable.ItemKind.file.rawValue),
            .fileID: .s(fileID), .bucket: .s(object.bucket), .key: .s(object.key), .eTag: .s(object.eTag),
            .size: .number(object.size), .sequencer: .s(sequencer), .feed: .s(feed), .state: .s(state.rawValue),
            .records: .number(plan.records), .bytes: .number(plan.bytes), .compressed: .bool(plan.compressed),
            .chunkCount: .number(plan.chunks.count), .chunksDone: .number(0),
            .recordsRead: .number(0), .recordsValid: .number(0), .recordsRejected: .number(0), .recordsDelivered: .number(0),
            .createdAt: .number(createdAt), .expiresAt: .number(expiresAt),
        ])
        // Under way: the sweep follows its chunks' deadlines, including those dispatched while it is planned.
        if state == .planning || state == .planned || state == .dispatched {
            item[.gsi2pk] = .s(JobTable.activeFiles)
            item[.gsi2sk] = .s(JobTable.activeFileKey(createdAt, fileID))
        }
        item[.versionID] = object.versionID.map { .s($0) }
        item[.columns] = plan.columns.map { .l($0.map { .s($0) }) }
        return item
    }

    init?(item: DynamoDB.Item, chunks: [ChunkSpec]) {
        guard let fileID = item[.fileID]?.string, let bucket = item[.bucket]?.string, let key = item[.key]?.string,
              let eTag = item[.eTag]?.string, let size = item[.size]?.int64, let state = item[.state]?.string.flatMap(State.init),
              let feed = item[.feed]?.string, let records = item[.records]?.int64, let bytes = item[.bytes]?.int64
        else { return nil }
        var columns: [String]?
        if case .l(let list)? = item[.columns] { columns = list.compactMap(\.string) }
        let compressed = if case .bool(let flag)? = item[.compressed] { flag } else { false }
        self.init(
            fileID: fileID, object: ObjectRef(bucket: bucket, key: key, versionID: item[.versionID]?.string, eTag: eTag, size: size),
            sequencer: item[.sequencer]?.string ?? "", feed: feed,
            plan: FilePlan(records: records, columns: columns, bytes: bytes, compressed: compressed, chunks: chunks),
            state: state, createdAt: item[.createdAt]?.int64 ?? 0, expiresAt: item[.expiresAt]?.int64 ?? 0)
    }
}

extension ChunkRecord {
    func item(expiresAt: Int64) -> DynamoDB.Item {
        var item = JobTable.chunkKey(fileID, spec.index).with([
            .kind: .s(JobTable.ItemKind.chunk.rawValue),
            .chunkID: .s(chunkID), .index: .number(spec.index), .firstRecord: .number(spec.firstRecord),
            .recordCount: .number(spec.recordCount), .start: .number(spec.start), .end: .number(spec.end),
            .startLine: .number(spec.startLine), .route: .s(route.rawValue), .state: .s(state.rawValue),
            .attempts: .number(0), .expiresAt: .number(expiresAt),
        ])
        if let entry = spec.entry {
            item[.entryCompressed] = .number(entry.compressedOffset)
            item[.entryDecompressed] = .number(entry.decompressedOffset)
            if entry.bits != 0 { item[.entryBits] = .number(entry.bits) }
            item[.entryWindow] = entry.packedWindow.map { .b(Data($0)) }
        }
        item[.compressedEnd] = spec.compressedEnd.map { .number($0) }
        return item
    }

    init?(item: DynamoDB.Item) {
        guard let fileID = item[.pk]?.string.flatMap(JobTable.fileID(partition:)), let index = item[.index]?.int,
              let firstRecord = item[.firstRecord]?.int64, let recordCount = item[.recordCount]?.int64,
              let start = item[.start]?.int64, let end = item[.end]?.int64, let startLine = item[.startLine]?.int,
              let route = item[.route]?.string.flatMap(ChunkRoute.init), let state = item[.state]?.string.flatMap(ChunkState.init)
        else { return nil }
        var entry: GzipEntry?
        if let compressed = item[.entryCompressed]?.int64, let decompressed = item[.entryDecompressed]?.int64 {
            var window: [UInt8]?
            if case .b(let packed)? = item[.entryWindow] { window = [UInt8](packed) }
            entry = GzipEntry(compressedOffset: compressed, decompressedOffset: decompressed, bits: item[.entryBits]?.int ?? 0, packedWindow: window)
        }
        let spec = ChunkSpec(
            index: index, firstRecord: firstRecord, recordCount: recordCount, start: start, end: end, startLine: startLine,
            entry: entry, compressedEnd: item[.compressedEnd]?.int64)
        var counts: ChunkCounts?
        if let read = item[.recordsRead]?.int64 {
            counts = ChunkCounts(
                read: read, valid: item[.recordsValid]?.int64 ?? 0, rejected: item[.recordsRejected]?.int64 ?? 0,
                delivered: item[.recordsDelivered]?.int64 ?? 0)
        }
        self.init(
            fileID: fileID, spec: spec, route: route, state: state,
            batchJobID: item[.batchJobID]?.string, batchArrayIndex: item[.batchArrayIndex]?.int, counts: counts, reason: item[.error]?.string)
    }
}
