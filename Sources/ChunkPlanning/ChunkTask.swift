/// The object a file plan was made from; chunks read it with `If-Match: eTag`, so a file
/// replaced after planning fails loudly instead of being read with the wrong boundaries.
public struct ObjectRef: Codable, Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var versionId: String?
    public var eTag: String
    public var size: Int64

    public init(bucket: String, key: String, versionId: String?, eTag: String, size: Int64) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.eTag = eTag
        self.size = size
    }
}

/// What the submitter hands the chunk processor (the Lambda payload): everything needed to
/// find, read and check one chunk, and no records.
public struct ChunkTask: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    public var fileId: String
    public var chunkId: String
    public var feed: String
    public var object: ObjectRef
    /// The file's column names, for CSV files with a header (later chunks do not contain it).
    public var columns: [String]?
    public var chunk: ChunkSpec
    /// When the file's items in the job table expire (seconds since the epoch).
    public var expiresAt: Int64

    public init(fileId: String, feed: String, object: ObjectRef, columns: [String]?, chunk: ChunkSpec, expiresAt: Int64) {
        version = Self.currentVersion
        self.fileId = fileId
        chunkId = Self.chunkID(fileId: fileId, index: chunk.index)
        self.feed = feed
        self.object = object
        self.columns = columns
        self.chunk = chunk
        self.expiresAt = expiresAt
    }

    /// `<fileId>-c00042`: sortable, and usable in Batch job names.
    public static func chunkID(fileId: String, index: Int) -> String {
        let digits = String(index)
        return "\(fileId)-c" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}
