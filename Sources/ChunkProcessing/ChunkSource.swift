import ChunkPlanning
import ChunkStore
import RecordFormats

/// The chunk's stream ended before its planned end.
public struct ChunkReadError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The bytes of one chunk, exactly `[start, end)` of the file's (decompressed) stream, read
/// part by part: a plain file by ranged GETs of the range itself; a gzip file by inflating
/// from the chunk's entry member and dropping the bytes before `start`.
struct ChunkSource {
    let reader: ObjectReader

    /// `body` gets the bytes in order; `afterPart` runs after each S3 part with the chunk bytes delivered so far.
    func read(_ task: ChunkTask, _ body: (UnsafeRawBufferPointer) throws -> Void, afterPart: (Int64) throws -> Void) throws {
        let chunk = task.chunk
        guard let entry = chunk.entry else {
            var done: Int64 = 0
            try reader.read(task.object, range: chunk.start..<chunk.end) { part in
                try part.withUnsafeBytes(body)
                done += Int64(part.count)
                try afterPart(done)
                return true
            }
            return
        }
        var inflater = try GzipInflater(start: entry)
        var skip = chunk.start - entry.decompressedOffset
        var remaining = chunk.end - chunk.start
        try reader.read(task.object, range: chunk.objectRange) { part in
            _ = try part.withUnsafeBytes { compressed in
                try inflater.inflate(compressed) { piece in
                    var bytes = piece.bytes
                    if skip > 0 {
                        let dropped = Int(min(skip, Int64(bytes.count)))
                        bytes = UnsafeRawBufferPointer(rebasing: bytes[dropped...])
                        skip -= Int64(dropped)
                    }
                    let taken = Int(min(remaining, Int64(bytes.count)))
                    if taken > 0 {
                        try body(UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
                        remaining -= Int64(taken)
                    }
                    return remaining > 0
                }
            }
            try afterPart(chunk.end - chunk.start - remaining)
            return remaining > 0
        }
        if remaining > 0 {
            try inflater.finish()
            throw ChunkReadError(description: "the gzip stream ended \(remaining) bytes before the chunk's end")
        }
    }
}
