import RecordFormats

/// The header line could not be read as column names.
public struct HeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "header: \(reason)" }
}

/// Counts a file's records and cuts it into chunks in one pass over its (decompressed) bytes,
/// fed in pieces of any size: nothing but the record being scanned is kept in memory.
public struct ChunkPlanner: Sendable {
    private var reader: RecordReader
    private var cutter: Cutter

    public init(format: RecordFormat, hasHeader: Bool, limits: ChunkLimits, compressed: Bool, maxRecordBytes: Int = 64 << 20) {
        reader = RecordReader(format: format, atFileStart: true, maxRecordBytes: maxRecordBytes)
        cutter = Cutter(limits: limits, hasHeader: hasHeader, compressed: compressed)
    }

    /// The next piece of a plain file.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        try reader.feed(bytes) { try cutter.take($0) }
    }

    /// The next piece of a gzip file's decompressed stream.
    public mutating func feed(_ piece: GzipPiece) throws {
        cutter.latestEntry = piece.entry
        cutter.compressedEnd = piece.compressedEnd
        try reader.feed(piece.bytes) { try cutter.take($0) }
    }

    /// The end of the file.
    public mutating func finish() throws -> FilePlan {
        try reader.finish { try cutter.take($0) }
        return cutter.plan(size: reader.scanner.position)
    }

    /// The chunk-cutting state, apart from the reader that feeds it.
    private struct Cutter: Sendable {
        let limits: ChunkLimits
        let hasHeader: Bool
        let compressed: Bool
        var columns: [String]?
        var chunks: [ChunkSpec] = []
        var records: Int64 = 0
        // The chunk being filled.
        var start: Int64 = 0
        var startLine = 1
        var firstRecord: Int64 = 0
        var count: Int64 = 0
        var entry = GzipEntry.fileStart
        // The latest gzip piece: its entry, and how far the compressed input had been read.
        var latestEntry: (@Sendable () throws(GzipError) -> GzipEntry)?
        var compressedEnd: Int64?

        init(limits: ChunkLimits, hasHeader: Bool, compressed: Bool) {
            self.limits = limits
            self.hasHeader = hasHeader
            self.compressed = compressed
        }

        mutating func take(_ record: RawRecord) throws {
            let boundary = record.boundary
            if hasHeader && columns == nil {
                columns = try ChunkPlanner.columnNames(record)
                try startNext(at: boundary)
                return
            }
            records += 1
            count += 1
            if count >= limits.maxRecords || boundary.next - start >= limits.maxBytes {
                close(end: boundary.next)
                try startNext(at: boundary)
            }
        }

        /// The next chunk begins after `boundary`'s record. Its terminator was in the latest
        /// piece, so that piece's entry is before the new chunk: a valid place to start from.
        mutating func startNext(at boundary: RecordBoundary) throws(GzipError) {
            start = boundary.next
            startLine = boundary.nextLine
            if let latestEntry { entry = try latestEntry() }
        }

        mutating func close(end: Int64) {
            chunks.append(ChunkSpec(
                index: chunks.count, firstRecord: firstRecord, recordCount: count, start: start, end: end,
                startLine: startLine, entry: compressed ? entry : nil, compressedEnd: compressed ? compressedEnd : nil))
            firstRecord += count
            count = 0
        }

        mutating func plan(size: Int64) -> FilePlan {
            if count > 0 { close(end: size) }
            return FilePlan(records: records, columns: columns, bytes: size, compressed: compressed, chunks: chunks)
        }
    }

    static func columnNames(_ record: RawRecord) throws(HeaderError) -> [String] {
        if let defect = record.boundary.defect { throw HeaderError(reason: defect.description) }
        guard !record.fields.isEmpty else { throw HeaderError(reason: "a header needs a CSV file") }
        var names: [String] = []
        for field in record.fields {
            guard let name = String(validating: record.value(of: field), as: UTF8.self) else {
                throw HeaderError(reason: "column \(names.count + 1) is not UTF-8")
            }
            names.append(name)
        }
        return names
    }
}
