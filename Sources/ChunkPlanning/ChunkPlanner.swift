import RecordFormats

/// The header line could not be read as column names.
public struct HeaderError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var description: String { "header: \(reason)" }
}

/// Counts a file's records and cuts it into chunks in one pass over its (decompressed) bytes,
/// fed in pieces of any size: nothing but the record being scanned is kept in memory.
///
/// The pass can stop and go on elsewhere: `checkpoint()` is its whole state as of the last
/// record boundary, and a planner made `resumingFrom` it continues from exactly there, with the
/// same chunks as an unbroken pass. (A record under way when the checkpoint is taken, even
/// inside an open quoted field across lines, is scanned again from its first byte: a
/// boundary is the one place where the scanner's state is all in a few numbers.)
public struct ChunkPlanner: Sendable {
    private var reader: RecordReader
    private var cutter: Cutter
    /// Where this planner began: a checkpoint at the same place would be no progress.
    private let origin: Int64

    public init(
        format: RecordFormat, hasHeader: Bool, limits: ChunkLimits, compressed: Bool, maxRecordBytes: Int = 64 << 20,
        resumingFrom checkpoint: PlanCheckpoint? = nil
    ) {
        cutter = Cutter(limits: limits, hasHeader: hasHeader, compressed: compressed)
        guard let checkpoint else {
            reader = RecordReader(format: format, atFileStart: true, maxRecordBytes: maxRecordBytes)
            origin = 0
            return
        }
        let scanner = RecordScanner(
            format: format, start: checkpoint.offset, atFileStart: checkpoint.offset == 0, firstLine: checkpoint.line, firstIndex: checkpoint.recordIndex)
        reader = RecordReader(scanner: scanner, maxRecordBytes: maxRecordBytes)
        origin = checkpoint.offset
        cutter.resume(checkpoint)
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

    /// The chunks closed since the last call (each is handed out once), so a long pass need not
    /// hold them all.
    public mutating func takeChunks() -> [ChunkSpec] {
        defer { cutter.chunks.removeAll() }
        return cutter.chunks
    }

    /// Chunks closed so far, taken or not.
    public var chunksPlanned: Int { cutter.nextIndex }

    /// Data records counted so far (up to the last record boundary).
    public var records: Int64 { cutter.records }

    /// The column names, once the header has been read.
    public var columns: [String]? { cutter.columns }

    /// Where scanning has reached in the stream (the record under way included).
    public var position: Int64 { reader.scanner.position }

    /// The state as of the last record boundary, or nil when none has passed since this planner began.
    /// A gzip file's checkpoint names where to inflate from to reach it (packing that entry's window).
    public func checkpoint() throws(GzipError) -> PlanCheckpoint? {
        guard let boundary = cutter.lastBoundary, boundary.next > origin else { return nil }
        return PlanCheckpoint(
            offset: boundary.next, line: boundary.nextLine, recordIndex: boundary.index + 1, records: cutter.records,
            columns: cutter.columns, chunksPlanned: cutter.nextIndex,
            chunk: PlanCheckpoint.OpenChunk(
                start: cutter.start, startLine: cutter.startLine, firstRecord: cutter.firstRecord, recordCount: cutter.count,
                entry: cutter.compressed ? cutter.entry : nil),
            entry: try cutter.boundaryEntry?() ?? cutter.resumedEntry)
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
        /// Closed chunks not yet taken.
        var chunks: [ChunkSpec] = []
        var nextIndex = 0
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
        /// The last record's boundary, and the entry of the piece its terminator was in.
        var lastBoundary: RecordBoundary?
        var boundaryEntry: (@Sendable () throws(GzipError) -> GzipEntry)?
        /// The entry a resumed pass began from: before any record of its own, the checkpoint's.
        var resumedEntry: GzipEntry?

        init(limits: ChunkLimits, hasHeader: Bool, compressed: Bool) {
            self.limits = limits
            self.hasHeader = hasHeader
            self.compressed = compressed
        }

        mutating func resume(_ checkpoint: PlanCheckpoint) {
            columns = checkpoint.columns
            nextIndex = checkpoint.chunksPlanned
            records = checkpoint.records
            start = checkpoint.chunk.start
            startLine = checkpoint.chunk.startLine
            firstRecord = checkpoint.chunk.firstRecord
            count = checkpoint.chunk.recordCount
            entry = checkpoint.chunk.entry ?? .fileStart
            resumedEntry = checkpoint.entry
        }

        mutating func take(_ record: RawRecord) throws {
            let boundary = record.boundary
            lastBoundary = boundary
            boundaryEntry = latestEntry
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
                index: nextIndex, firstRecord: firstRecord, recordCount: count, start: start, end: end,
                startLine: startLine, entry: compressed ? entry : nil, compressedEnd: compressed ? compressedEnd : nil))
            nextIndex += 1
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
