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
///
/// A FIFO queue (`….fifo`) gets the chunk as its message group (its records stay in order) and a
/// deduplication id naming the chunk and the message's records, the same on every run of the
/// chunk: a retried chunk's messages are dropped by SQS within its five-minute window.
struct SQSDelivery {
    let sqs: SQS
    let queueURL: String
    let recordsPerMessage: Int
    let limits: SQSLimits
    let retry: RetryPolicy
    /// The chunk's id: a FIFO queue's message group, and the start of each deduplication id.
    let chunkID: String
    let isFIFO: Bool
    private var body: [UInt8] = []
    private var bodyRecords = 0
    /// Records written to a message so far (the next one's ordinal in the chunk's delivery).
    private var written = 0
    private var batch: [(body: String, records: Int, deduplicationID: String)] = []
    private var batchBytes = 0
    private(set) var delivered: Int64 = 0

    init(sqs: SQS, queueURL: String, recordsPerMessage: Int, limits: SQSLimits, retry: RetryPolicy, chunkID: String) {
        self.sqs = sqs
        self.queueURL = queueURL
        self.recordsPerMessage = recordsPerMessage
        self.limits = limits
        self.retry = retry
        self.chunkID = chunkID
        isFIFO = queueURL.hasSuffix(".fifo")
    }

    /// Queues one record; returns why it cannot be sent when it is larger than a message or
    /// holds a character SQS refuses.
    mutating func write(_ record: UnsafeBufferPointer<UInt8>) throws -> String? {
        guard record.count <= limits.maxMessageBytes else {
            return "\(record.count) bytes as JSON, more than an SQS message holds (\(limits.maxMessageBytes))"
        }
        if let refused = Self.refusedCharacter(record) {
            return "\(refused): SQS takes only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF in a message"
        }
        if bodyRecords > 0 && (bodyRecords == recordsPerMessage || body.count + 1 + record.count > limits.maxMessageBytes) {
            try closeMessage()
        }
        if bodyRecords > 0 { body.append(UInt8(ascii: "\n")) }
        body.append(contentsOf: record)
        bodyRecords += 1
        written += 1
        return nil
    }

    /// The first character of valid UTF-8 `bytes` outside the XML characters SQS accepts, as
    /// `U+XXXX at byte N`: controls other than tab, LF and CR, U+FFFE and U+FFFF. (Surrogates
    /// cannot be in valid UTF-8; the JSON writer escapes controls, so these come from the data.)
    static func refusedCharacter(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D {
                return "U+\(hex(UInt32(byte))) at byte \(index)"
            }
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF.
            if byte == 0xEF, index + 2 < bytes.count, bytes[index + 1] == 0xBF, bytes[index + 2] >= 0xBE {
                return "U+\(hex(0xFFC0 | UInt32(bytes[index + 2] & 0x3F))) at byte \(index)"
            }
            index += 1
        }
        return nil
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    mutating func finish() throws {
        if bodyRecords > 0 { try closeMessage() }
        if !batch.isEmpty { try send() }
    }

    private mutating func closeMessage() throws {
        if batch.count == limits.maxEntries || batchBytes + body.count > limits.maxBatchBytes { try send() }
        // Records were checked as UTF-8 before they got here. The id: the chunk and the ordinals of
        // the message's records among those it delivers, `[first, end)`.
        batch.append((String(decoding: body, as: UTF8.self), bodyRecords, "\(chunkID).r\(written - bodyRecords)-\(written)"))
        batchBytes += body.count
        body.removeAll(keepingCapacity: true)
        bodyRecords = 0
    }

    private mutating func send() throws {
        var pending = Array(batch.indices)
        var attempt = 0
        while !pending.isEmpty {
            attempt += 1
            let entries = pending.map { index in
                SQS.Entry(
                    id: String(index), messageBody: batch[index].body, messageGroupId: isFIFO ? chunkID : nil,
                    messageDeduplicationId: isFIFO ? batch[index].deduplicationID : nil)
            }
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
