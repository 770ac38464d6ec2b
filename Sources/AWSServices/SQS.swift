import AWSCore

/// SQS over its JSON protocol: batched sends with every entry's outcome.
public struct SQS: Sendable {
    let json: JSONProtocolClient

    public init(client: AWSClient) {
        json = JSONProtocolClient(client: client, service: .sqs, version: "1.0", targetPrefix: "AmazonSQS")
    }

    public struct MessageAttribute: Codable, Sendable, Equatable {
        /// `String`, `Number` or `Binary` (with an optional `.custom` suffix).
        public var dataType: String
        public var stringValue: String?

        public init(string: String) {
            dataType = "String"
            stringValue = string
        }

        enum CodingKeys: String, CodingKey { case dataType = "DataType", stringValue = "StringValue" }
    }

    public struct Entry: Encodable, Sendable {
        /// Unique within the batch; the outcome refers back to it.
        public var id: String
        public var messageBody: String
        public var delaySeconds: Int?
        public var messageAttributes: [String: MessageAttribute]?
        /// FIFO queues only.
        public var messageGroupId: String?
        public var messageDeduplicationId: String?

        public init(
            id: String, messageBody: String, delaySeconds: Int? = nil, messageAttributes: [String: MessageAttribute]? = nil,
            messageGroupId: String? = nil, messageDeduplicationId: String? = nil
        ) {
            self.id = id
            self.messageBody = messageBody
            self.delaySeconds = delaySeconds
            self.messageAttributes = messageAttributes
            self.messageGroupId = messageGroupId
            self.messageDeduplicationId = messageDeduplicationId
        }

        enum CodingKeys: String, CodingKey {
            case id = "Id", messageBody = "MessageBody", delaySeconds = "DelaySeconds", messageAttributes = "MessageAttributes"
            case messageGroupId = "MessageGroupId", messageDeduplicationId = "MessageDeduplicationId"
        }
    }

    public struct Sent: Decodable, Sendable, Equatable {
        public var id: String
        public var messageId: String
        public var md5OfMessageBody: String?
        public var sequenceNumber: String?
        enum CodingKeys: String, CodingKey { case id = "Id", messageId = "MessageId", md5OfMessageBody = "MD5OfMessageBody", sequenceNumber = "SequenceNumber" }
    }

    /// An entry SQS refused while accepting the rest of the batch.
    public struct Failed: Decodable, Sendable, Equatable {
        public var id: String
        public var code: String
        public var message: String?
        /// True when resending the same entry will fail again.
        public var senderFault: Bool
        enum CodingKeys: String, CodingKey { case id = "Id", code = "Code", message = "Message", senderFault = "SenderFault" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            code = try container.decode(String.self, forKey: .code)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            // A boolean in the JSON protocol; some implementations echo the Query protocol's "true".
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .senderFault) {
                senderFault = flag
            } else {
                senderFault = (try container.decodeIfPresent(String.self, forKey: .senderFault))?.lowercased() == "true"
            }
        }
    }

    public struct SendMessageBatchOutput: Decodable, Sendable {
        public var successful: [Sent]
        public var failed: [Failed]

        enum CodingKeys: String, CodingKey { case successful = "Successful", failed = "Failed" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            successful = try container.decodeIfPresent([Sent].self, forKey: .successful) ?? []
            failed = try container.decodeIfPresent([Failed].self, forKey: .failed) ?? []
        }
    }

    struct SendMessageBatchInput: Encodable {
        var queueUrl: String
        var entries: [Entry]
        enum CodingKeys: String, CodingKey { case queueUrl = "QueueUrl", entries = "Entries" }
    }

    /// Up to 10 entries. The call succeeds when SQS took the batch, even if some entries
    /// failed: check `failed` (and resend those whose `senderFault` is false).
    public func sendMessageBatch(queueUrl: String, entries: [Entry]) throws(AWSError) -> SendMessageBatchOutput {
        try json.call("SendMessageBatch", SendMessageBatchInput(queueUrl: queueUrl, entries: entries))
    }
}
