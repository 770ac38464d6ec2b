import AWSCore
import AWSServices

/// SQS would not take some records: the chunk fails with this, after every retry.
public struct DeliveryError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// SQS's size limits, as SendMessageBatch enforces them.
public struct SQSLimits: Sendable, Equatable {
    public var maxEntries = 10
    /// One message body (256 KiB).
    public var maxMessageBytes = 262_144
    /// All the bodies of one call together (256 KiB).
    public var maxBatchBytes = 262_144
    /// Attempts for the entries SQS refused as its own fault (throttling, internal errors).
    public var maxAttempts = 5

    public init() {}
}

/// Packs valid records into SQS messages: `recordsPerMessage` JSON lines per body at most,
/// bodies and batches filled up to SQS's limits; refused entries are resent when the fault
/// was SQS's, with the client's backoff.
struct SQSDelivery {
    let sqs: SQS
    let queueURL: String
    let recordsPerMessage: Int
    let limits: SQSLimits
    let retry: RetryPolicy
    private var body: [UInt8] = []
    private var bodyRecords = 0
    private var batch: [(body: String, records: Int)] = []
    private var batchBytes = 0
    private(set) var delivered: Int64 = 0

    init(sqs: SQS, queueURL: String, recordsPerMessage: Int, limits: SQSLimits, retry: RetryPolicy) {
        self.sqs = sqs
        self.queueURL = queueURL
        self.recordsPerMessage = recordsPerMessage
        self.limits = limits
        self.retry = retry
    }

    /// Queues one record; returns why it cannot be sent when it is larger than a message.
    mutating func write(_ record: UnsafeBufferPointer<UInt8>) throws -> String? {
        guard record.count <= limits.maxMessageBytes else {
            return "\(record.count) bytes as JSON, more than an SQS message holds (\(limits.maxMessageBytes))"
        }
        if bodyRecords > 0 && (bodyRecords == recordsPerMessage || body.count + 1 + record.count > limits.maxMessageBytes) {
            try closeMessage()
        }
        if bodyRecords > 0 { body.append(UInt8(ascii: "\n")) }
        body.append(contentsOf: record)
        bodyRecords += 1
        return nil
    }

    mutating func finish() throws {
        if bodyRecords > 0 { try closeMessage() }
        if !batch.isEmpty { try send() }
    }

    private mutating func closeMessage() throws {
        if batch.count == limits.maxEntries || batchBytes + body.count > limits.maxBatchBytes { try send() }
        // Records were checked as UTF-8 before they got here.
        batch.append((String(decoding: body, as: UTF8.self), bodyRecords))
        batchBytes += body.count
        body.removeAll(keepingCapacity: true)
        bodyRecords = 0
    }

    private mutating func send() throws {
        var pending = Array(batch.indices)
        var attempt = 0
        while !pending.isEmpty {
            attempt += 1
            let entries = pending.map { SQS.Entry(id: String($0), messageBody: batch[$0].body) }
            let output = try sqs.sendMessageBatch(queueUrl: queueURL, entries: entries)
            for sent in output.successful { if let index = Int(sent.id) { delivered += Int64(batch[index].records) } }
            if let refused = output.failed.first(where: \.senderFault) {
                throw DeliveryError(description: "SQS refused a message of \(queueURL): \(refused.code) \(refused.message ?? "")")
            }
            pending = output.failed.compactMap { Int($0.id) }
            if !pending.isEmpty {
                guard attempt < limits.maxAttempts else {
                    throw DeliveryError(description: "SQS kept failing \(pending.count) messages after \(attempt) attempts: \(output.failed.first?.code ?? "")")
                }
                retry.sleep(retry.backoff(retry: attempt, reason: .throttling))
            }
        }
        batch.removeAll(keepingCapacity: true)
        batchBytes = 0
    }
}
