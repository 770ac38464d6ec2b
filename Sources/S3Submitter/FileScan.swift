import ChunkPlanning
import ChunkStore
import RecordFormats

/// Plans an object in one streamed pass: ranged GETs, inflated on the way when it is gzip.
struct FileScan {
    let reader: ObjectReader
    /// How far apart a gzip file's access points are: a chunk is entered at most this much
    /// output (and one deflate block) before its start. Each costs a packed 32 KiB window in its
    /// chunk's item and payload, and only chunks keep one, so closer would cost nothing but time.
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
