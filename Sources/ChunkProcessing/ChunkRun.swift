import ChunkPlanning
import ChunkStore
import RecordFormats

/// One chunk being processed: the record loop, its counts and its two outputs.
struct ChunkRun {
    let task: ChunkTask
    let feed: Feed
    let processor: ChunkProcessor
    private(set) var counts = ChunkCounts()
    private var delivery: Delivery?
    private var rejects: ObjectWriter?
    private(set) var rejectsKey: String?

    init(task: ChunkTask, feed: Feed, processor: ChunkProcessor) {
        self.task = task
        self.feed = feed
        self.processor = processor
    }

    var outputKey: String? { delivery?.outputKey }
    var outputBucket: String? {
        if case .s3(let location) = feed.destination { location.bucket } else { nil }
    }

    mutating func execute(format: RecordFormat, afterPart: (Int64) throws -> Void) throws {
        let chunk = task.chunk
        let columns: [String]? = if case .csv = format, feed.hasHeader { task.columns } else { nil }
        let schema = try RecordSchema(rules: feed.fields, columns: columns)
        delivery = makeDelivery()
        var reader = RecordReader(
            scanner: RecordScanner(
                format: format, start: chunk.start, atFileStart: chunk.start == 0, firstLine: chunk.startLine, firstIndex: Int(chunk.firstRecord)),
            maxRecordBytes: processor.settings.maxRecordBytes)
        var line: [UInt8] = []
        var members: [JSONMember] = []
        let source = ChunkSource(reader: ObjectReader(s3: processor.s3, partSize: processor.settings.partSize))
        try source.read(task, { bytes in
            try reader.feed(bytes) { try take($0, format: format, schema: schema, line: &line, members: &members) }
        }, afterPart: afterPart)
        try reader.finish { try take($0, format: format, schema: schema, line: &line, members: &members) }
        guard counts.read == chunk.recordCount else {
            throw ChunkFailure.failed("\(task.chunkId): read \(counts.read) records where the plan counted \(chunk.recordCount)")
        }
        counts.delivered = try delivery?.finish() ?? 0
        if var writer = rejects {
            try writer.finish()
            rejectsKey = writer.key
        }
    }

    /// Leaves no half-written object behind; counts what SQS already holds.
    mutating func abandon() {
        counts.delivered = delivery?.deliveredSoFar ?? 0
        delivery?.abandon()
        rejects?.abandon()
    }

    private func makeDelivery() -> Delivery {
        switch feed.destination {
        case .sqs(let queueURL, let recordsPerMessage):
            return .sqs(SQSDelivery(
                sqs: processor.sqs, queueURL: queueURL, recordsPerMessage: recordsPerMessage, limits: processor.settings.sqsLimits,
                retry: processor.retry))
        case .s3(let location):
            return .s3(ObjectWriter(
                s3: processor.s3, bucket: location.bucket, key: "\(location.prefix)\(task.fileId)/\(task.chunkId).jsonl",
                partSize: processor.settings.outputPartSize))
        }
    }

    private mutating func take(_ record: RawRecord, format: RecordFormat, schema: RecordSchema, line: inout [UInt8], members: inout [JSONMember]) throws {
        counts.read += 1
        line.removeAll(keepingCapacity: true)
        let invalid: String? = switch format {
        case .csv: schema.appendCSV(record, to: &line)
        case .jsonLines: schema.appendJSONLine(record, members: &members, to: &line)
        }
        if let invalid { return try reject(record, invalid) }
        if let refused = try delivery?.write(line) { return try reject(record, refused) }
        counts.valid += 1
    }

    /// One rejects line: `{"line":…,"record":…,"reason":…,"text":…}`, the text cut at 4 KiB.
    private mutating func reject(_ record: RawRecord, _ reason: String) throws {
        counts.rejected += 1
        if rejects == nil {
            rejects = ObjectWriter(
                s3: processor.s3, bucket: feed.rejects.bucket, key: "\(feed.rejects.prefix)\(task.fileId)/\(task.chunkId).rejects.jsonl",
                partSize: processor.settings.outputPartSize)
        }
        var entry = Array(#"{"line":\#(record.boundary.line),"record":\#(record.boundary.index + 1),"reason":"#.utf8)
        var reasonText = reason
        _ = reasonText.withUTF8 { JSONOutput.appendString($0, to: &entry) }
        entry += Array(#","text":"#.utf8)
        var text = String(decoding: record.bytes.prefix(4096), as: UTF8.self)
        _ = text.withUTF8 { JSONOutput.appendString($0, to: &entry) }
        entry.append(UInt8(ascii: "}"))
        try rejects?.appendLine(entry)
    }
}
