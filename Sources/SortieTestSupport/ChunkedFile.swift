import AWSCore
import ChunkPlanning
import ChunkStore
import Foundation

/// A file of many chunks written through `FileStore` as planning and processing write it, without
/// an object or a processor: the chunks (transactions of 100), the file and its plan's end, the
/// last chunk FAILED for good (so the file is no longer under way and no sweep follows it), then
/// the first `done` chunks claimed and finished, each 10 records read, 9 delivered, 1 rejected per
/// 10 of its `recordsPerChunk`. Returns the file's id; its key is `incoming/orders/chunked-<count>.csv`.
public func seedChunkedFile(_ store: FileStore, chunks count: Int, done: Int, recordsPerChunk: Int64 = 10) throws(AWSError) -> String {
    let fileID = "chunked-\(UUID().uuidString.prefix(8).lowercased())"
    let specs = (0..<count).map { index in
        ChunkSpec(
            index: index, firstRecord: Int64(index) * recordsPerChunk, recordCount: recordsPerChunk, start: Int64(index) * recordsPerChunk * 100,
            end: Int64(index + 1) * recordsPerChunk * 100, startLine: index * Int(recordsPerChunk) + 2)
    }
    let records = Int64(count) * recordsPerChunk
    let plan = FilePlan(records: records, columns: ["order_id"], bytes: records * 100, compressed: false, chunks: specs)
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    let file = FileRecord(
        fileID: fileID, object: ObjectRef(bucket: "sortie-landing", key: "incoming/orders/chunked-\(count).csv", versionID: nil, eTag: "\"seeded\"", size: plan.bytes),
        sequencer: "00", feed: "orders", plan: plan, state: .planning, createdAt: now, expiresAt: now / 1000 + 86_400)
    _ = try store.putChunks(specs.map { ChunkRecord(fileID: fileID, spec: $0, route: .batch, state: .planned) }, expiresAt: file.expiresAt)
    try store.startPlanning(file)
    try store.finishPlanning(fileID: fileID, generation: 0, sequence: 0, plan: plan, chunkCount: count, now: now)
    _ = try store.failChunk(fileID: fileID, index: count - 1, reason: "seeded: failed for good", now: now)
    let rejected = recordsPerChunk / 10
    for index in 0..<min(done, count - 1) {
        _ = try store.claimChunk(fileID: fileID, index: index, owner: "seeded", now: now, leaseUntil: now + 60_000)
        try store.finishChunk(
            fileID: fileID, index: index, owner: "seeded",
            counts: ChunkCounts(read: recordsPerChunk, valid: recordsPerChunk - rejected, rejected: rejected, delivered: recordsPerChunk - rejected), now: now)
    }
    return fileID
}
