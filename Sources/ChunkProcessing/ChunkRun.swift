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

    mutating func execute(format: RecordFormat, timeLeft: @escaping () -> Int64, afterPart: (Int64) throws -> Void) throws {
        let chunk = task.chunk
        let columns: [String]? = if case .csv = format, feed.hasHeader { task.columns } else { nil }
        var delivery = try makeDelivery(timeLeft: timeLeft)
        var validation = RecordValidation(
            format: format, schema: try RecordSchema(rules: feed.fields, columns: columns),
            scanner: RecordScanner(
                format: format, start: chunk.start, atFileStart: chunk.start == 0, firstLine: chunk.startLine, firstIndex: Int(chunk.firstRecord)),
            maxRecordBytes: processor.configuration.maxRecordBytes)
        let source = ChunkSource(reader: ObjectReader(s3: processor.s3, partSize: processor.configuration.partSize))
        do {
            try source.read(task, { bytes in
                try validation.feed(bytes, deliver: { try delivery.write($0, number: $1) }, reject: { try reject($0, $1) })
            }, afterPart: afterPart)
            try validation.finish(deliver: { try delivery.write($0, number: $1) }, reject: { try reject($0, $1) })
        } catch {
            counts = validation.counts
            self.delivery = delivery
            throw error
        }
        counts = validation.counts
        guard counts.read == chunk.recordCount else {
            self.delivery = delivery
            throw ChunkError.failed("\(task.chunkID): read \(counts.read) records where the plan counted \(chunk.recordCount)")
        }
        counts.delivered = try delivery.finish()
        self.delivery = delivery
        if var writer = rejects {
            try writer.finish()
            rejectsKey = writer.key
        }
    }

    /// Leaves no half-written object behind; counts what SQS or Kafka already holds.
    mutating func abandon() {
        counts.delivered = delivery?.deliveredSoFar ?? 0
        delivery?.abandon()
        rejects?.abandon()
    }

    private func makeDelivery(timeLeft: @escaping () -> Int64) throws -> Delivery {
        switch feed.destination {
        case .sqs(let queueURL, let recordsPerMessage):
            return .sqs(SQSDelivery(
                sqs: processor.sqs, queueURL: queueURL, recordsPerMessage: recordsPerMessage, limits: processor.configuration.sqsLimits,
                retry: processor.retry, chunkID: task.chunkID))
        case .s3(let location):
            return .s3(ObjectWriter(
                s3: processor.s3, bucket: location.bucket, key: "\(location.prefix)\(task.fileID)/\(task.chunkID).jsonl",
                partSize: processor.configuration.outputPartSize))
        case .kafka(let destination):
            return .kafka(try KafkaDelivery(destination: destination, task: task, credentials: processor.kafka, timeLeft: timeLeft))
        }
    }

    /// One rejects line: `{"line":…,"record":…,"reason":…,"text":…}`, the text cut at 4 KiB.
    private mutating func reject(_ record: RawRecord, _ reason: String) throws {
        if rejects == nil {
            rejects = ObjectWriter(
                s3: processor.s3, bucket: feed.rejects.bucket, key: "\(feed.rejects.prefix)\(task.fileID)/\(task.chunkID).rejects.jsonl",
                partSize: processor.configuration.outputPartSize)
        }
        var entry = Array(#"{"line":\#(record.boundary.line),"record":\#(record.boundary.index + 1),"reason":"#.utf8)
        entry += JSONOutput.quoted(reason)
        entry += Array(#","text":"#.utf8)
        entry += JSONOutput.quoted(String(decoding: record.bytes.prefix(4096), as: UTF8.self))
        entry.append(UInt8(ascii: "}"))
        try entry.withUnsafeBufferPointer { try rejects?.appendLine($0) }
    }
}
