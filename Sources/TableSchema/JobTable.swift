import AWSServices

/// The deployment's one DynamoDB table: the key layout of every item kind, the name of every
/// attribute, the indexes. The one place these are spelled (a test greps the rest of the code);
/// `JobStore` (jobs, slots, events) and `ChunkStore` (files, chunks, S3 events) read and write
/// through it. Schema only, no job model: the chunk functions link it within their zip budget.
///
/// | item | pk | sk | attributes |
/// | --- | --- | --- | --- |
/// | job record | `JOB#<id>` | `JOB` | the `JobRecord` fields; `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk` only while RUNNABLE, `gsi2pk`/`gsi2sk` while PENDING (and an array's parent while RUNNING); `dependsOn` (a list of ids), `dependents` (a string set of ids); an array parent's size and progress, a child's parent and index |
/// | event seen | `EVENT#<event id>` | `EVENT` | `jobId`, `job`, `receivedAt`, `expiresAt` |
/// | a kind's slots | `SLOTS#<job name>` | `SLOTS` | `holders`: the ids of its STARTING and RUNNING jobs (a string set) |
/// | global slots | `SLOTS` | `SLOTS` | `holders`: every STARTING and RUNNING job id |
/// | file | `FILE#<file id>` | `FILE` | the object, the plan's totals, the counts (`chunksDone`, `chunksFailed` and the records' sums, each moved with the chunk's own change); `gsi2pk`/`gsi2sk` while under way |
/// | chunk | `FILE#<file id>` | `CHUNK#<index, 5 digits>` | its range and gzip entry, route, state, claim and counts |
/// | Batch array | `FILE#<file id>` | `ARRAY#<first chunk, 5 digits>` | `chunks`: the chunk each child runs |
/// | planning checkpoint | `FILE#<file id>` | `PLANNING` | `phase`, `generation`, `sequence`, the lease, `checkpoint` |
/// | S3 event claim | `S3EVENT#<event id>` | `EVENT` | the object, `fileId`, `state`, the lease |
/// | price | `PRICE#on-demand#<region>#<type>` or `PRICE#spot#<region>#<zone>#<type>#<from>#<to>` | `PRICE` | `usdPerHour` (a spot window's time-weighted), `fetchedAt` |
///
/// Every item but the slots expires by `expiresAt` (TTL). The queues are sparse indexes: `gsi1`
/// (`QUEUE#<job name>`) holds one kind's waiting jobs and `gsi2` (`QUEUE`) all of them, both
/// sorted by `queueKey`: higher priority first, then oldest. `gsi2`'s `PENDING` partition holds
/// the jobs waiting for their dependencies, its `ARRAYS#ACTIVE` partition the array parents whose
/// children are under way, its `FILES#ACTIVE` partition the files under way.
public enum JobTable {
    /// The table as `sortie dev` and the tests create it, and the template declares it; TTL goes on `ttlAttribute`.
    public static func definition(_ name: String) -> DynamoDB.CreateTableInput {
        DynamoDB.CreateTableInput(tableName: name, partitionKey: Attribute.pk.rawValue, sortKey: Attribute.sk.rawValue, globalSecondaryIndexes: [
            .init(name: kindQueueIndex, partitionKey: Attribute.gsi1pk.rawValue, sortKey: Attribute.gsi1sk.rawValue),
            .init(name: globalQueueIndex, partitionKey: Attribute.gsi2pk.rawValue, sortKey: Attribute.gsi2sk.rawValue),
        ])
    }

    /// Every attribute of every item kind, by the name it is stored under. A name two kinds share
    /// (`state`, `reason`, `attempts`, `leaseUntil`…) is one case.
    public enum Attribute: String, CaseIterable, Sendable {
        case pk, sk
        /// The index keys: a waiting job's queue places (`JobTable.queueKey`), a file under way (`activeFileKey`).
        case gsi1pk, gsi1sk, gsi2pk, gsi2sk
        /// DynamoDB's TTL attribute (epoch seconds).
        case expiresAt
        /// A job record's or a file's, a chunk's, an S3 event claim's state.
        case state
        /// Why: a job's attempt ended (also in `history` entries and `attempts` summaries), a file's planning failed.
        case reason

        // A job record: the `JobRecord` fields.
        case jobID = "jobId", job, parameters, attempt, priority, submittedAt, updatedAt, history, statusReason, eventID = "eventId"
        case instanceID = "instanceId", instanceType, heartbeatAt, exitCode, failingStep, durationMs
        /// A dependent's list of the ids it waits for, and a dependency's set of the ids waiting for it.
        case dependsOn, dependents
        /// The last transition's own token: a write sent again after its answer was lost recognises itself by it.
        case transitionToken
        /// When EC2 first refused the current attempt for capacity (epoch milliseconds).
        case capacityShortSince
        /// The market (`spot`, `on-demand`), subnet and zone the current attempt was launched in.
        case market, subnet, availabilityZone
        /// A manual submission's overrides of its spec (a map of texts by override name).
        case overrides
        /// An array parent: its size, `SEQUENTIAL`, its `N_TO_N` arrays (a list of ids); how many
        /// children exist (`arrayCreated`: indexes below it), which have not been counted as ended
        /// (`arrayOpen`, a string set of indexes), the counts of those ended, the first failure's reason.
        case arraySize, arraySequential, arrayNToN, arrayCreated, arrayOpen, arraySucceeded, arrayFailed, arrayFirstFailure
        /// An array child: its parent's id and its index.
        case arrayParent, arrayIndex
        /// When an ended attempt's outcome was decided: no retry follows. Written by the reactor,
        /// and with the FAILED state itself when an attempt ends with no instance to react to.
        case settledAt
        /// A retry's earliest start (epoch milliseconds, as `WallClock.unixMilliseconds()`): a waiting job is due once it has passed.
        case notBefore
        /// When EC2 warned that the attempt's spot instance is about to be reclaimed.
        case interruptionWarnedAt
        /// A job's summary per earlier attempt (`attempt`, `exitCode`, `failingStep`, `reason`,
        /// `statusReason`, `instanceId`, `instanceType`, `market`, `availabilityZone`, `log`); a chunk's count of claims.
        case attempts
        /// Where the runner put the attempt's full log (S3), and its CloudWatch Logs group and stream.
        case logUri, logStream
        /// An operator's cancel of a started attempt.
        case cancelRequestedAt, cancelReason
        /// An event item's arrival.
        case receivedAt
        /// A slots item's holders (a string set of job ids).
        case holders
        /// Fields of `history` entries (with `state`, `reason`) and of `attempts` summaries.
        case at, log

        /// Which kind of file-side item this is (`ItemKind`).
        case kind
        // A file and its S3 event claim: the object, the plan's totals, the progress.
        case fileID = "fileId", bucket, key, eTag, versionID = "versionId", size, sequencer, feed
        case records, bytes, compressed, columns, chunkCount, chunksPlanned, chunksDone, createdAt, completedAt
        /// A file's count of chunks decided FAILED for good, moved with each decision and redrive.
        case chunksFailed
        case failedAt, failedChunk, failedReason, redrives
        /// The counts, a chunk's own and their sum on its file.
        case recordsRead, recordsValid, recordsRejected, recordsDelivered
        // A chunk: its range and gzip entry point, where it goes, its claims and how it ended.
        case chunkID = "chunkId", index, firstRecord, recordCount, start, end, startLine, compressedEnd
        case entryCompressed, entryDecompressed, entryBits, entryWindow
        case route, batchJobID = "batchJobId", batchArrayIndex, owner, error, outputKey, rejectsKey, sweepRetries
        case dispatchedAt, startedAt, finishedAt, stoppedAt, decidedAt, retriedAt, redrivenAt
        /// A claim's lease end (ms since the epoch): an S3 event's, a chunk's, a file's planning.
        case leaseUntil
        /// An S3 event claim's first claim.
        case claimedAt
        /// A Batch array item's chunk list (comma-separated indexes).
        case chunks
        /// A price item's: US dollars an hour, and when it was asked for (epoch milliseconds).
        case usdPerHour, fetchedAt
        // A planning checkpoint item.
        case phase, generation, sequence, startedGeneration, undispatchedFrom, checkpoint, checkpointOffset
    }

    /// The `kind` of a file-side item.
    public enum ItemKind: String, Sendable {
        case file, chunk, array, planning, s3event
    }

    public static let ttlAttribute = Attribute.expiresAt.rawValue
    public static let kindQueueIndex = "gsi1"
    public static let globalQueueIndex = "gsi2"

    /// `#name` placeholders bound to `attributes`, for an expression's `expressionAttributeNames`:
    /// expressions name attributes only as `#<name>`.
    public static func names(_ attributes: [Attribute]) -> [String: String] {
        var names: [String: String] = [:]
        for attribute in attributes { names["#" + attribute.rawValue] = attribute.rawValue }
        return names
    }

    // MARK: Jobs

    public static func jobKey(_ id: String) -> DynamoDB.Item { key(jobPrefix + id, jobSort) }
    /// What every job record's `pk` begins with, and its `sk`.
    public static let jobPrefix = "JOB#"
    public static let jobSort = "JOB"
    public static func eventKey(_ eventID: String) -> DynamoDB.Item { key("EVENT#\(eventID)", "EVENT") }
    public static func slotsKey(job: String) -> DynamoDB.Item { key("SLOTS#\(job)", "SLOTS") }
    public static let globalSlotsKey: DynamoDB.Item = key("SLOTS", "SLOTS")
    public static func kindQueue(_ job: String) -> String { "QUEUE#\(job)" }
    public static let globalQueue = "QUEUE"
    /// `gsi2`'s partition of PENDING jobs.
    public static let pendingQueue = "PENDING"
    /// `gsi2`'s partition of RUNNING array parents, for the sweep.
    public static let activeArrays = "ARRAYS#ACTIVE"

    // MARK: Prices

    /// What every price item's `pk` begins with, and its `sk`.
    public static let pricePrefix = "PRICE#"
    public static let priceSort = "PRICE"
    /// An instance type's on-demand (Linux, shared tenancy) price in a region.
    public static func onDemandPriceKey(region: String, instanceType: String) -> DynamoDB.Item {
        key("\(pricePrefix)on-demand#\(region)#\(instanceType)", priceSort)
    }
    /// An instance type's spot price in a zone over one attempt's window (epoch milliseconds): its time-weighted mean.
    public static func spotPriceKey(region: String, zone: String, instanceType: String, from: Int64, to: Int64) -> DynamoDB.Item {
        key("\(pricePrefix)spot#\(region)#\(zone)#\(instanceType)#\(from)#\(to)", priceSort)
    }

    // MARK: Files

    public static func filePartition(_ fileID: String) -> String { filePrefix + fileID }
    /// What every file partition's `pk` begins with.
    public static let filePrefix = "FILE#"
    public static let fileSort = "FILE"
    /// What every chunk's `sk` begins with.
    public static let chunkPrefix = "CHUNK#"
    public static func chunkSort(_ index: Int) -> String { chunkPrefix + padded(Int64(index), 5) }
    /// Chunk indexes sort by their five digits: a file's chunks are numbered below this.
    public static let chunkLimit = 100_000
    public static func fileKey(_ fileID: String) -> DynamoDB.Item { key(filePartition(fileID), fileSort) }
    public static func chunkKey(_ fileID: String, _ index: Int) -> DynamoDB.Item { key(filePartition(fileID), chunkSort(index)) }
    /// A Batch array job's chunk list, under its first chunk's number.
    public static func arrayKey(_ fileID: String, first: Int) -> DynamoDB.Item { key(filePartition(fileID), "ARRAY#" + padded(Int64(first), 5)) }
    /// A file's planning checkpoint: one item, overwritten at each checkpoint.
    public static func planningKey(_ fileID: String) -> DynamoDB.Item { key(filePartition(fileID), "PLANNING") }
    public static func s3EventKey(_ eventID: String) -> DynamoDB.Item { key("S3EVENT#\(eventID)", "EVENT") }
    /// Files being planned or processed sit in this partition of the sparse `gsi2` index (jobs
    /// use its `QUEUE` partition), oldest first; a COMPLETE or FAILED file leaves it.
    public static let activeFilesIndex = globalQueueIndex
    public static let activeFiles = "FILES#ACTIVE"
    public static func activeFileKey(_ createdAt: Int64, _ fileID: String) -> String { padded(createdAt, 13) + "#" + fileID }

    /// The file id of a file partition's `pk`, nil for any other.
    public static func fileID(partition: String) -> String? {
        partition.hasPrefix(filePrefix) ? String(partition.dropFirst(filePrefix.count)) : nil
    }

    private static func key(_ partition: String, _ sort: String) -> DynamoDB.Item {
        [Attribute.pk.rawValue: .s(partition), Attribute.sk.rawValue: .s(sort)]
    }

    /// `value` zero-padded to `width` digits, so that keys sort as numbers.
    package static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

extension DynamoDB.Item {
    /// An attribute by its typed name: how every item is read and written.
    public subscript(_ attribute: JobTable.Attribute) -> AttributeValue? {
        get { self[attribute.rawValue] }
        set { self[attribute.rawValue] = newValue }
    }

    /// This item (a key, usually) with `attributes` written over it: an item literal with typed names.
    public func with(_ attributes: KeyValuePairs<JobTable.Attribute, AttributeValue>) -> DynamoDB.Item {
        var item = self
        for (attribute, value) in attributes { item[attribute.rawValue] = value }
        return item
    }
}
