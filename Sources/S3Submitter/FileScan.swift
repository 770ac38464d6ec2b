import ChunkPlanning
import ChunkStore
import RecordFormats

/// Plans an object in one streamed pass: ranged GETs, inflated on the way when it is gzip.
struct FileScan {
    let reader: ObjectReader
    /// How far apart a gzip file's access points are at least: a chunk is entered about this much
    /// output before its start at most (plus one output buffer and one deflate block). Only the
    /// windows chunks keep are packed and stored, so closer ones would cost inflate stops, not space.
    static let accessPointSpacing: Int64 = 1 << 20

    func plan(_ object: ObjectRef, format: RecordFormat, hasHeader: Bool, limits: ChunkLimits) throws -> FilePlan {
        let compressed = try isGzip(object)
        var planner = ChunkPlanner(format: format, hasHeader: hasHeader, limits: limits, compressed: compressed)
        let whole: Range<Int64> = 0..<object.size
        if compressed {
            var inflater = try GzipInflater(accessPointSpacing: Self.accessPointSpacing)
            try reader.read(object, range: whole) { part in
                _ = try part.withUnsafeBytes { bytes in
                    try inflater.inflate(bytes) { piece in
                        try planner.feed(piece)
                        return true
                    }
                }
                return true
            }
            // A stream cut short fails the plan here, before any chunk is dispatched.
            try inflater.finish()
        } else {
            try reader.read(object, range: whole) { part in
                try part.withUnsafeBytes { try planner.feed($0) }
                return true
            }
        }
        return try planner.finish()
    }

    /// Compression is told by content, not by name: one tiny GET of the first two bytes.
    private func isGzip(_ object: ObjectRef) throws -> Bool {
        guard object.size >= 2 else { return false }
        var prefix: [UInt8] = []
        try reader.read(object, range: 0..<2) { part in
            prefix = Array(part)
            return false
        }
        return GzipInflater.looksCompressed(prefix)
    }
}
