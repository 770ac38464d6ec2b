/// The object a file plan was made from; chunks read it with `If-Match: eTag`, so a file
/// replaced after planning fails loudly instead of being read with the wrong boundaries.
public struct ObjectRef: Codable, Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var versionID: String?
    public var eTag: String
    public var size: Int64

    /// The payload's keys, as chunk processors of every version read them.
    enum CodingKeys: String, CodingKey {
        case bucket, key, versionID = "versionId", eTag, size
    }

    public init(bucket: String, key: String, versionID: String?, eTag: String, size: Int64) {
        self.bucket = bucket
        self.key = key
        self.versionID = versionID
        self.eTag = eTag
        self.size = size
    }
}

/// What the submitter hands the chunk processor (the Lambda payload): everything needed to
/// find, read and check one chunk, and no records.
public struct ChunkTask: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    public var version: Int
    public var fileID: String
    public var chunkID: String
    public var feed: String
    public var object: ObjectRef
    /// The file's column names, for CSV files with a header (later chunks do not contain it).
    public var columns: [String]?
    public var chunk: ChunkSpec
    /// When the file's items in the job table expire (seconds since the epoch).
    public var expiresAt: Int64

    /// The payload's keys, as chunk processors of every version read them.
    enum CodingKeys: String, CodingKey {
        case version, fileID = "fileId", chunkID = "chunkId", feed, object, columns, chunk, expiresAt
    }

    public init(fileID: String, feed: String, object: ObjectRef, columns: [String]?, chunk: ChunkSpec, expiresAt: Int64) {
        version = Self.currentVersion
        self.fileID = fileID
        chunkID = Self.chunkID(fileID: fileID, index: chunk.index)
        self.feed = feed
        self.object = object
        self.columns = columns
        self.chunk = chunk
        self.expiresAt = expiresAt
    }

    /// `<fileID>-c00042`: sortable, and usable in Batch job names.
    public static func chunkID(fileID: String, index: Int) -> String {
        let digits = String(index)
        return "\(fileID)-c" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }
}
