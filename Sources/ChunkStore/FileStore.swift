import AWSCore
import AWSServices
import ChunkPlanning
import TableSchema
import WallTime

/// The job table operations of the S3 submitter and the chunk processor (`FILE#…`, `CHUNK#…` and
/// `S3EVENT#…` items; of the indexes only `gsi2`'s `FILES#ACTIVE` partition, see `activeFiles`).
/// The table's layout is `TableSchema`'s (`JobTable`), its job items `JobStore`'s; these stay
/// apart so the chunk processor's bootstrap does not link the job model.
public struct FileStore: Sendable {
    public let dynamoDB: DynamoDB
    public let tableName: String

    public init(dynamoDB: DynamoDB, tableName: String) {
        self.dynamoDB = dynamoDB
        self.tableName = tableName
    }

    // MARK: - Event claims (idempotency)

    public enum EventClaim: Sendable, Equatable {
        /// This invocation owns the event until its lease ends.
        case claimed
        /// An earlier delivery of the same event finished it.
        case done
        /// Another delivery holds an unexpired lease (until this time, ms since the epoch).
        case busy(leaseUntil: Int64)
    }

    /// Claims an S3 event by its identity: a new event, or one whose earlier delivery failed or
    /// ran out of time (its lease has passed) and must be resumed.
    public func claimEvent(eventID: String, fileID: String, object: ObjectRef, sequencer: String, now: Int64, leaseUntil: Int64, expiresAt: Int64) throws(AWSError) -> EventClaim {
        var item = JobTable.s3EventKey(eventID).with([
            .kind: .s(JobTable.ItemKind.s3event.rawValue), .fileID: .s(fileID),
            .bucket: .s(object.bucket), .key: .s(object.key), .eTag: .s(object.eTag), .sequencer: .s(sequencer),
            .state: .s("CLAIMED"), .leaseUntil: .number(leaseUntil), .claimedAt: .number(now), .expiresAt: .number(expiresAt),
        ])
        item[.versionID] = object.versionID.map { .s($0) }
        do {
            try dynamoDB.putItem(.init(
                tableName: tableName, item: item,
                conditionExpression: "attribute_not_exists(#pk) OR (#state <> :done AND #leaseUntil < :now)",
                expressionAttributeNames: JobTable.names([.pk, .state, .leaseUntil]), expressionAttributeValues: [":done": .s("DONE"), ":now": .number(now)],
                returnValuesOnConditionCheckFailure: .allOld))
            return .claimed
        } catch where error.isConditionalCheckFailed {
            let old = error.conditionalCheckFailedItem
            if old?[.state]?.string == "DONE" { return .done }
            return .busy(leaseUntil: old?[.leaseUntil]?.int64 ?? 0)
        }
    }

    /// The event is handled: later deliveries of it do nothing.
    public func finishEvent(eventID: String) throws(AWSError) {
        try dynamoDB.updateItem(.init(
            tableName: tableName, key: JobTable.s3EventKey(eventID), updateExpression: "SET #state = :done REMOVE #leaseUntil",
            expressionAttributeNames: JobTable.names([.state, .leaseUntil]), expressionAttributeValues: [":done": .s("DONE")]))
    }

    /// Gives the lease up after a failure, so a retry can resume at once.
    public func releaseEvent(eventID: String) throws(AWSError) {
        try dynamoDB.updateItem(.init(
            tableName: tableName, key: JobTable.s3EventKey(eventID), updateExpression: "SET #leaseUntil = :zero",
            conditionExpression: "#state <> :done", expressionAttributeNames: JobTable.names([.state, .leaseUntil]),
            expressionAttributeValues: [":zero": .number(0), ":done": .s("DONE")]))
    }

    // MARK: - Transactions

    /// TransactWriteItems, sent again (a few times, after a short random pause) while DynamoDB
    /// cancels it only for another transaction on one of its items: every chunk ending counts on
    /// its file's one item, so endings that meet there conflict. A cancelled transaction wrote
    /// nothing, and its conditions decide again when it is sent again.
    func transact(_ items: [DynamoDB.TransactWriteItem]) throws(AWSError) {
        var round = 0
        while true {
            do {
                return try dynamoDB.transactWriteItems(items)
            } catch where error.onlyConflicted && round < Self.conflictRetries {
                round += 1
                RetryPolicy.blockingSleep(.milliseconds(Int64.random(in: 5...(25 << round))))
            }
        }
    }

    /// How often a transaction that only conflicted is sent again.
    static let conflictRetries = 5

    // MARK: - Plans

    /// Writes planned chunks unless they exist, `DynamoDB.transactionLimit` to a request (all or
    /// nothing each); returns the chunks that were there already (a killed run's), as `putChunk`
    /// does. A transaction that meets an existing chunk writes none of its own, so that batch is
    /// written again chunk by chunk.
    public func putChunks(_ chunks: [ChunkRecord], expiresAt: Int64) throws(AWSError) -> [ChunkRecord] {
        var existing: [ChunkRecord] = []
        var start = 0
        while start < chunks.count {
            let batch = chunks[start..<min(start + DynamoDB.transactionLimit, chunks.count)]
            start = batch.endIndex
            if batch.count > 1 {
                do {
                    try dynamoDB.transactWriteItems(batch.map { chunk in
                        .put(.init(
                            tableName: tableName, item: chunk.item(expiresAt: expiresAt), conditionExpression: "attribute_not_exists(#pk)",
                            expressionAttributeNames: JobTable.names([.pk])))
                    })
                    continue
                } catch where error.lostCondition {}
            }
            for chunk in batch {
                if let found = try putChunk(chunk, expiresAt: expiresAt) { existing.append(found) }
            }
        }
        return existing
    }

    /// A file's item and every chunk, or nil when it has not been planned. Reads the whole
    /// partition: for small files (tests, the demo); `sortie file` reads `progress` and a page.
    public func loadFile(_ fileID: String) throws(AWSError) -> (file: FileRecord, chunks: [ChunkRecord])? {
        guard var file = try fileItem(fileID) else { return nil }
        let chunks = try chunks(fileID: fileID, from: 0, to: JobTable.chunkLimit)
        file.plan.chunks = chunks.map(\.spec)
        return (file, chunks)
    }

    /// One chunk and its file's item (whose plan then lists no chunks), or nil when either is missing.
    public func loadChunk(fileID: String, index: Int) throws(AWSError) -> (file: FileRecord, chunk: ChunkRecord)? {
        guard let chunkItem = try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.chunkKey(fileID, index), consistentRead: true)).item,
              let chunk = ChunkRecord(item: chunkItem),
              let fileItem = try dynamoDB.getItem(.init(tableName: tableName, key: JobTable.fileKey(fileID), consistentRead: true)).item,
              let file = FileRecord(item: fileItem, chunks: [])
        else { return nil }
        return (file, chunk)
    }

    /// Lists an array job's chunks under its first one, before the job is submitted: child `i`
    /// runs entry `i` (the Batch parameters name only the first chunk, whatever the array's size).
    /// Written whole each time, so a resubmission after a failure writes the same item again.
    public func saveArray(fileID: String, chunks: [Int], expiresAt: Int64) throws(AWSError) {
        guard let first = chunks.first else { return }
        try dynamoDB.putItem(.init(tableName: tableName, item: JobTable.arrayKey(fileID, first: first).with([
            .kind: .s(JobTable.ItemKind.array.rawValue),
            .chunks: .s(chunks.map(String.init).joined(separator: ",")), .expiresAt: .number(expiresAt),
        ])))
    }

    /// The chunk that child `child` of the array job starting at chunk `first` runs, or nil when
    /// no such array (or child) was recorded.
    public func arrayChunk(fileID: String, first: Int, child: Int) throws(AWSError) -> Int? {
        let key = JobTable.arrayKey(fileID, first: first)
        guard child >= 0, let list = try dynamoDB.getItem(.init(tableName: tableName, key: key, consistentRead: true)).item?[.chunks]?.string
        else { return nil }
        let entries = list.split(separator: ",")
        return child < entries.count ? Int(entries[child]) : nil
    }

    /// Records where a planned chunk went. A chunk a processor already picked up keeps its state.
    /// `dispatchedAt` starts the sweep's clock on a chunk that never starts.
    public func markDispatched(
        fileID: String, index: Int, state: ChunkState, batchJobID: String? = nil, batchArrayIndex: Int? = nil, now: Int64 = WallClock.unixMilliseconds()
    ) throws(AWSError) {
        var update = "SET #state = :state, #dispatchedAt = :now"
        var names: [JobTable.Attribute] = [.state, .dispatchedAt]
        var values: DynamoDB.Item = [":state": .s(state.rawValue), ":planned": .s(ChunkState.planned.rawValue), ":now": .number(now)]
        if let batchJobID {
            update += ", #batchJobId = :job"
            names.append(.batchJobID)
            values[":job"] = .s(batchJobID)
        }
        if let batchArrayIndex {
            update += ", #batchArrayIndex = :child"
            names.append(.batchArrayIndex)
            values[":child"] = .number(batchArrayIndex)
        }
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.chunkKey(fileID, index), updateExpression: update, conditionExpression: "#state = :planned",
                expressionAttributeNames: JobTable.names(names), expressionAttributeValues: values))
        } catch where error.isConditionalCheckFailed {
            return
        }
    }

    /// Every chunk is handed over. (Fast chunks may have completed the file already: it stays complete.)
    public func markFileDispatched(fileID: String) throws(AWSError) {
        do {
            try dynamoDB.updateItem(.init(
                tableName: tableName, key: JobTable.fileKey(fileID), updateExpression: "SET #state = :dispatched",
                conditionExpression: "#state = :planned", expressionAttributeNames: JobTable.names([.state]),
                expressionAttributeValues: [":dispatched": .s(FileRecord.State.dispatched.rawValue), ":planned": .s(FileRecord.State.planned.rawValue)]))
        } catch where error.isConditionalCheckFailed {
            return
        }
    }
}
