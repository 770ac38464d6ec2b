import ChunkPlanning
import ChunkStore
import RecordFormats

/// Scans an object into a planner in one streamed pass from its start or from a checkpoint:
/// ranged GETs, inflated on the way when it is gzip.
struct FileScan {
    let reader: ObjectReader
    /// How far apart a gzip file's access points are at least: a chunk is entered about this much
    /// output before its start at most (plus one output buffer and one deflate block). Only the
    /// windows chunks keep are packed and stored, so closer ones would cost inflate stops, not space.
    static let accessPointSpacing: Int64 = 1 << 20

    /// Feeds the planner from `checkpoint` (nil: the first byte), calling `afterPart` after each
    /// part read; it returns false to stop there. Returns true when the object was read to its end.
    func scan(
        _ object: ObjectRef, compressed: Bool, from checkpoint: PlanCheckpoint?, into planner: inout ChunkPlanner,
        afterPart: (inout ChunkPlanner) throws -> Bool
    ) throws -> Bool {
        var going = true
        if compressed {
            // Inflating can only start at a member or an access point: from there, output before the checkpoint is dropped.
            let entry = checkpoint?.entry ?? .fileStart
            let target = checkpoint?.offset ?? 0
            var streamOffset = entry.decompressedOffset
            var inflater = try GzipInflater(start: entry, accessPointSpacing: Self.accessPointSpacing)
            try reader.read(object, range: entry.compressedOffset..<object.size) { part in
                _ = try part.withUnsafeBytes { bytes in
                    try inflater.inflate(bytes) { piece in
                        let skip = Int(min(max(target - streamOffset, 0), Int64(piece.bytes.count)))
                        streamOffset += Int64(piece.bytes.count)
                        guard skip < piece.bytes.count else { return true }
                        var rest = piece
                        rest.bytes = UnsafeRawBufferPointer(rebasing: piece.bytes[skip...])
                        try planner.feed(rest)
                        return true
                    }
                }
                going = try afterPart(&planner)
                return going
            }
            // A stream cut short fails the plan here, before it is finished.
            if going { try inflater.finish() }
        } else {
            try reader.read(object, range: (checkpoint?.offset ?? 0)..<object.size) { part in
                try part.withUnsafeBytes { try planner.feed($0) }
                going = try afterPart(&planner)
                return going
            }
        }
        return going
    }

    /// Compression is told by content, not by name: one tiny GET of the first two bytes.
    func isGzip(_ object: ObjectRef) throws -> Bool {
        guard object.size >= 2 else { return false }
        var prefix: [UInt8] = []
        try reader.read(object, range: 0..<2) { part in
            prefix = Array(part)
            return false
        }
        return GzipInflater.looksCompressed(prefix)
    }
}
