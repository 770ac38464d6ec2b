import RecordFormats

/// One chunk of a file: whole records, with where to find them.
///
/// Offsets are in the file's decompressed byte stream (the object's own bytes when it is not
/// compressed). A gzip file cannot be entered just anywhere, so a gzip chunk also names `entry`,
/// a member start or an access point at or before the chunk: the processor inflates from there,
/// discards the bytes before `start`, and reads compressed bytes only up to `compressedEnd`.
public struct ChunkSpec: Codable, Sendable, Equatable {
    /// 0-based position in the file's plan.
    public var index: Int
    /// 0-based index of the chunk's first data record (a header is not a data record).
    public var firstRecord: Int64
    public var recordCount: Int64
    /// Byte range `[start, end)`: from the chunk's first record to just after its last one's terminator.
    public var start: Int64
    public var end: Int64
    /// The line `start` is on, so rejected records are reported with the file's line numbers.
    public var startLine: Int
    public var entry: GzipEntry?
    public var compressedEnd: Int64?

    public init(
        index: Int, firstRecord: Int64, recordCount: Int64, start: Int64, end: Int64, startLine: Int,
        entry: GzipEntry? = nil, compressedEnd: Int64? = nil
    ) {
        self.index = index
        self.firstRecord = firstRecord
        self.recordCount = recordCount
        self.start = start
        self.end = end
        self.startLine = startLine
        self.entry = entry
        self.compressedEnd = compressedEnd
    }

    /// The range of compressed object bytes to fetch: the whole range for a plain file.
    public var objectRange: Range<Int64> {
        guard let entry else { return start..<end }
        return entry.compressedOffset..<(compressedEnd ?? end)
    }
}

/// A file cut into chunks: every data record in exactly one chunk, in order.
public struct FilePlan: Codable, Sendable, Equatable {
    public var records: Int64
    /// Column names from the header line (CSV files with a header).
    public var columns: [String]?
    /// Size of the decompressed stream.
    public var bytes: Int64
    public var compressed: Bool
    public var chunks: [ChunkSpec]

    public init(records: Int64, columns: [String]?, bytes: Int64, compressed: Bool, chunks: [ChunkSpec]) {
        self.records = records
        self.columns = columns
        self.bytes = bytes
        self.compressed = compressed
        self.chunks = chunks
    }
}

/// When a chunk is closed: whichever limit is reached first.
public struct ChunkLimits: Sendable, Equatable {
    public var maxRecords: Int64
    /// A chunk is closed once it holds this many bytes (so it exceeds it by less than one record).
    public var maxBytes: Int64

    public init(maxRecords: Int64, maxBytes: Int64) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
    }
}
