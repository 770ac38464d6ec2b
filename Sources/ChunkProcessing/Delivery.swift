import AWSCore
import AWSServices
import ChunkPlanning

/// Where a chunk's valid records go, as the feed's destination says: exactly one of the three.
/// (Optionals rather than an enum with payloads, so the sinks' buffers are mutated in place.)
struct Delivery {
    private var sqs: SQSDelivery?
    /// One JSON Lines object per chunk: complete, or (after an abandon) absent.
    private var s3: ObjectWriter?
    private var kafka: KafkaDelivery?
    private var written: Int64 = 0

    static func sqs(_ sink: SQSDelivery) -> Delivery { Delivery(sqs: sink) }
    static func s3(_ writer: ObjectWriter) -> Delivery { Delivery(s3: writer) }
    static func kafka(_ sink: KafkaDelivery) -> Delivery { Delivery(kafka: sink) }

    /// Returns why the record cannot be delivered (it is then a reject), or nil. `number` is the
    /// record's number in the file, from 1.
    mutating func write(_ record: UnsafeBufferPointer<UInt8>, number: Int) throws -> String? {
        if sqs != nil { return try sqs?.write(record) ?? nil }
        if kafka != nil { return try kafka?.write(record, number: number) ?? nil }
        try s3?.appendLine(record)
        written += 1
        return nil
    }

    /// Sends what is left; returns how many records were delivered.
    mutating func finish() throws -> Int64 {
        if sqs != nil {
            try sqs?.finish()
            return sqs?.delivered ?? 0
        }
        if let kafka {
            try kafka.finish()
            return kafka.delivered
        }
        try s3?.finish()
        return written
    }

    /// Records already out of our hands when the chunk stops early (SQS messages and Kafka
    /// records are not taken back).
    var deliveredSoFar: Int64 { sqs?.delivered ?? kafka?.delivered ?? 0 }

    func abandon() {
        s3?.abandon()
    }

    /// The S3 key of the output object, for the chunk's record.
    var outputKey: String? { s3?.key }
}
