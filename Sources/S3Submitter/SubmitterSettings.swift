import ChunkPlanning
import ChunkStore

/// The S3 submitter's settings, from its environment (see functions/s3-submitter.json).
public struct SubmitterSettings: Sendable {
    /// `SORTIE_TABLE`.
    public var tableName: String
    /// `CHUNK_PROCESSOR_FUNCTION`: name or ARN of the chunk processor.
    public var processorFunction: String
    /// `BATCH_JOB_QUEUE` and `BATCH_JOB_DEFINITION`: where chunks above the threshold go.
    public var batchJobQueue: String
    public var batchJobDefinition: String
    /// `BATCH_PROCESSING_THRESHOLD`: the most records a chunk may have to be processed in Lambda (290000).
    public var threshold: Int64 = 290_000
    /// `CHUNK_MAX_RECORDS` and `CHUNK_MAX_BYTES`: where files are cut (1000000 records, 256 MiB).
    public var limits = ChunkLimits(maxRecords: 1_000_000, maxBytes: 256 << 20)
    /// `BATCH_ATTEMPTS`: tries per Batch job (3; 1–10).
    public var batchAttempts = 3
    /// `BATCH_ARRAY_MAX`: the most chunks in one array job (100; 2–10,000); two or more big chunks of a file share one.
    public var batchArrayMax = 100
    /// `BATCH_TIMEOUT_SECONDS`: per-attempt limit for Batch jobs (none when unset).
    public var batchTimeoutSeconds: Int?
    /// `SKIP_PREFIXES`: comma-separated key prefixes to ignore.
    public var skipPrefixes: [String] = []
    /// `SKIP_DIRECTORY_MARKERS`: ignore keys ending in `/` (true).
    public var skipDirectoryMarkers = true
    /// `RECORD_TTL_DAYS`: how long the job table keeps a file's items (30).
    public var recordTTLDays: Int64 = 30
    /// `READ_PART_BYTES`: the size of each ranged GET while counting (8 MiB).
    public var partSize: Int64 = 8 << 20

    public init(tableName: String, processorFunction: String, batchJobQueue: String, batchJobDefinition: String) {
        self.tableName = tableName
        self.processorFunction = processorFunction
        self.batchJobQueue = batchJobQueue
        self.batchJobDefinition = batchJobDefinition
    }

    public static func fromEnvironment(_ environment: [String: String]) throws(SettingError) -> SubmitterSettings {
        let settings = Settings(environment)
        var result = SubmitterSettings(
            tableName: try settings.required("SORTIE_TABLE"), processorFunction: try settings.required("CHUNK_PROCESSOR_FUNCTION"),
            batchJobQueue: try settings.required("BATCH_JOB_QUEUE"), batchJobDefinition: try settings.required("BATCH_JOB_DEFINITION"))
        result.threshold = try settings.integer("BATCH_PROCESSING_THRESHOLD", default: result.threshold, minimum: 1)
        result.limits = ChunkLimits(
            maxRecords: try settings.integer("CHUNK_MAX_RECORDS", default: result.limits.maxRecords, minimum: 1),
            maxBytes: try settings.integer("CHUNK_MAX_BYTES", default: result.limits.maxBytes, minimum: 1))
        // Batch's own bounds: retryStrategy.attempts is 1–10, an array job has 2–10,000 children.
        result.batchAttempts = Int(try settings.integer("BATCH_ATTEMPTS", default: 3, minimum: 1, maximum: 10))
        result.batchArrayMax = Int(try settings.integer("BATCH_ARRAY_MAX", default: 100, minimum: 2, maximum: 10_000))
        if settings["BATCH_TIMEOUT_SECONDS"] != nil {
            result.batchTimeoutSeconds = Int(try settings.integer("BATCH_TIMEOUT_SECONDS", default: 0, minimum: 60))
        }
        result.skipPrefixes = (settings["SKIP_PREFIXES"] ?? "").split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
        result.skipDirectoryMarkers = (settings["SKIP_DIRECTORY_MARKERS"] ?? "true").lowercased() != "false"
        result.recordTTLDays = try settings.integer("RECORD_TTL_DAYS", default: 30, minimum: 1)
        result.partSize = try settings.integer("READ_PART_BYTES", default: result.partSize, minimum: 1)
        return result
    }

    public enum Admission: Sendable, Equatable {
        case feed(Feed)
        /// Not for the submitter, and why.
        case skip(String)
    }

    /// The feed that takes an object, unless configuration says to skip it.
    public func admit(_ object: ObjectCreated, catalog: FeedCatalog) -> Admission {
        if skipDirectoryMarkers && object.key.hasSuffix("/") { return .skip("directory marker") }
        if let prefix = skipPrefixes.first(where: { object.key.hasPrefix($0) }) { return .skip("under skipped prefix '\(prefix)'") }
        guard let feed = catalog.feed(forKey: object.key) else { return .skip("no feed for this key") }
        return .feed(feed)
    }
}
