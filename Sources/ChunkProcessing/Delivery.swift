import AWSCore
import AWSServices
import ChunkPlanning

/// Where a chunk's valid records go, as the feed's destination says.
enum Delivery {
    case sqs(SQSDelivery)
    /// One JSON Lines object per chunk: complete, or (after an abandon) absent.
    case s3(ObjectWriter, written: Int64)

    /// Returns why the record cannot be delivered (it is then a reject), or nil.
    mutating func write(_ record: [UInt8]) throws -> String? {
        switch self {
        case .sqs(var sink):
            defer { self = .sqs(sink) }
            return try sink.write(record)
        case .s3(var writer, let written):
            try writer.appendLine(record)
            self = .s3(writer, written: written + 1)
            return nil
        }
    }

    /// Sends what is left; returns how many records were delivered.
    mutating func finish() throws -> Int64 {
        switch self {
        case .sqs(var sink):
            defer { self = .sqs(sink) }
            try sink.finish()
            return sink.delivered
        case .s3(var writer, let written):
            try writer.finish()
            self = .s3(writer, written: written)
            return written
        }
    }

    /// Records already out of our hands when the chunk stops early (SQS messages are not taken back).
    var deliveredSoFar: Int64 {
        switch self {
        case .sqs(let sink): sink.delivered
        case .s3: 0
        }
    }

    func abandon() {
        if case .s3(let writer, _) = self { writer.abandon() }
    }

    /// The S3 key of the output object, for the chunk's record.
    var outputKey: String? {
        if case .s3(let writer, _) = self { writer.key } else { nil }
    }
}
