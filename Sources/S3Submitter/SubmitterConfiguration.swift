import AWSServices
import ChunkPlanning
import ChunkStore
import FunctionStartup

/// The S3 submitter's configuration, from its environment (see functions/s3-submitter.json).
public struct SubmitterConfiguration: FunctionConfiguration {
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
    /// `BATCH_TIMEOUT_SECONDS`: per-attempt limit for Batch jobs of feeds that set none
    /// (`Feed.defaultBatchTimeoutSeconds` when unset).
    public var batchTimeoutSeconds: Int?
    /// `SKIP_PREFIXES`: comma-separated key prefixes to ignore.
    public var skipPrefixes: [String] = []
    /// `SKIP_DIRECTORY_MARKERS`: ignore keys ending in `/` (true).
    public var skipDirectoryMarkers = true
    /// `RECORD_TTL_DAYS`: how long the job table keeps a file's items (30).
    public var recordTTLDays: Int64 = 30
    /// `READ_PART_BYTES`: the size of each ranged GET while counting (8 MiB).
    public var partSize: Int64 = 8 << 20
    /// `CHUNK_DEAD_LETTER_QUEUE_URL`: the chunk processor's OnFailure destination, whose records the
    /// sweep turns into FAILED chunks (none: only the deadlines decide).
    public var chunkDeadLetterQueue: String?
    /// `SORTIE_ALERT_TOPIC`: where a failed file is announced (none: only logged).
    public var alertTopic: String?
    /// `CHUNK_PROCESSOR_TIMEOUT_SECONDS`: the chunk processor's Lambda timeout (900).
    public var processorTimeoutSeconds: Int64 = 900
    /// `CHUNK_RETRY_GRACE_SECONDS`: how long after an attempt's end or deadline Lambda's or Batch's
    /// own retry may take to begin before the sweep steps in (360: Lambda waits up to 3 minutes).
    public var retryGraceSeconds: Int64 = 360
    /// `READ_AHEAD`: ranged GETs in flight while planning (4); memory holds about this many parts.
    public var readAhead = 4
    /// `PLAN_CHECKPOINT_BYTES`: the longest stretch of a file's stream planned between checkpoints (256 MiB).
    public var checkpointBytes: Int64 = 256 << 20
    /// `PLAN_MARGIN_SECONDS`: planning hands over to a fresh invocation once less time than this is left (30):
    /// enough for the part being read, its chunks' dispatch and the checkpoint.
    public var planningMargin: Int64 = 30
    /// `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda): this function, invoked to go on planning a file.
    public var submitterFunction: String?

    public init(tableName: String, processorFunction: String, batchJobQueue: String, batchJobDefinition: String) {
        self.tableName = tableName
        self.processorFunction = processorFunction
        self.batchJobQueue = batchJobQueue
        self.batchJobDefinition = batchJobDefinition
    }

    public init(reading environment: inout EnvironmentReader) {
        self.init(
            tableName: environment.required("SORTIE_TABLE"), processorFunction: environment.required("CHUNK_PROCESSOR_FUNCTION"),
            batchJobQueue: environment.required("BATCH_JOB_QUEUE"), batchJobDefinition: environment.required("BATCH_JOB_DEFINITION"))
        threshold = environment.integer("BATCH_PROCESSING_THRESHOLD", default: threshold, minimum: 1)
        limits = ChunkLimits(
            maxRecords: environment.integer("CHUNK_MAX_RECORDS", default: limits.maxRecords, minimum: 1),
            maxBytes: environment.integer("CHUNK_MAX_BYTES", default: limits.maxBytes, minimum: 1))
        // Batch's own bounds: retryStrategy.attempts is 1–10, an array job has 2–10,000 children.
        batchAttempts = Int(environment.integer("BATCH_ATTEMPTS", default: 3, minimum: 1, maximum: 10))
        batchArrayMax = Int(environment.integer("BATCH_ARRAY_MAX", default: 100, minimum: 2, maximum: 10_000))
        if environment["BATCH_TIMEOUT_SECONDS"] != nil {
            batchTimeoutSeconds = Int(environment.integer("BATCH_TIMEOUT_SECONDS", default: 0, minimum: 60))
        }
        skipPrefixes = (environment["SKIP_PREFIXES"] ?? "").split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
        skipDirectoryMarkers = (environment["SKIP_DIRECTORY_MARKERS"] ?? "true").lowercased() != "false"
        recordTTLDays = environment.integer("RECORD_TTL_DAYS", default: 30, minimum: 1)
        partSize = environment.integer("READ_PART_BYTES", default: partSize, minimum: 1)
        chunkDeadLetterQueue = environment["CHUNK_DEAD_LETTER_QUEUE_URL"]
        alertTopic = environment["SORTIE_ALERT_TOPIC"]
        processorTimeoutSeconds = environment.integer("CHUNK_PROCESSOR_TIMEOUT_SECONDS", default: 900, minimum: 1)
        retryGraceSeconds = environment.integer("CHUNK_RETRY_GRACE_SECONDS", default: 360, minimum: 0)
        readAhead = Int(environment.integer("READ_AHEAD", default: 4, minimum: 1))
        checkpointBytes = environment.integer("PLAN_CHECKPOINT_BYTES", default: checkpointBytes, minimum: 1)
        planningMargin = environment.integer("PLAN_MARGIN_SECONDS", default: planningMargin, minimum: 0)
        submitterFunction = environment["AWS_LAMBDA_FUNCTION_NAME"]
    }

    /// The retry strategy every Batch job is submitted with, and the chunk worker's job definition
    /// declares: `BATCH_ATTEMPTS` tries; a lost Spot host is worth another, an exit code of 2 (the
    /// input itself is bad, see `BatchWorker`) ends the job.
    public var batchRetryStrategy: Batch.RetryStrategy {
        Batch.RetryStrategy(attempts: batchAttempts, evaluateOnExit: [
            Batch.EvaluateOnExit(action: "RETRY", onStatusReason: "Host EC2*"),
            Batch.EvaluateOnExit(action: "EXIT", onExitCode: "2"),
        ])
    }

    /// The job definition's attempt limit: `BATCH_TIMEOUT_SECONDS`, else two hours. Each job
    /// carries its feed's own (`attemptSeconds`), which Batch takes over the definition's.
    public var batchTimeout: Batch.JobTimeout { Batch.JobTimeout(attemptDurationSeconds: batchTimeoutSeconds ?? Feed.defaultBatchTimeoutSeconds) }

    /// A Batch attempt's limit for `feed`'s chunks: the feed's, else `BATCH_TIMEOUT_SECONDS`, else two hours.
    public func attemptSeconds(_ feed: Feed) -> Int {
        feed.batchTimeoutSeconds ?? batchTimeoutSeconds ?? Feed.defaultBatchTimeoutSeconds
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
