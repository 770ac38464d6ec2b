import RecordFormats

/// A planning pass's whole state at a record boundary: enough to go on from exactly there in
/// another process (`ChunkPlanner(resumingFrom:)`), with the same chunks as an unbroken pass.
public struct PlanCheckpoint: Codable, Sendable, Equatable {
    /// The chunk being filled when the checkpoint was taken.
    public struct OpenChunk: Codable, Sendable, Equatable {
        public var start: Int64
        public var startLine: Int
        public var firstRecord: Int64
        public var recordCount: Int64
        /// Gzip: where the chunk will be entered.
        public var entry: GzipEntry?
    }

    /// Where scanning goes on, in the decompressed stream: just after a record's terminator.
    public var offset: Int64
    /// The line `offset` is on (quoted line breaks count).
    public var line: Int
    /// Records scanned so far, the header included: the scanner's next record index.
    public var recordIndex: Int
    /// Data records so far.
    public var records: Int64
    public var columns: [String]?
    /// Chunks closed so far: the next one's index.
    public var chunksPlanned: Int
    public var chunk: OpenChunk
    /// Gzip: where to inflate from to reach `offset` (a member start or an access point at or before it).
    public var entry: GzipEntry?
}
