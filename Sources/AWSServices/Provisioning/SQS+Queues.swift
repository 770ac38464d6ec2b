import AWSCore

extension SQS {
    private struct CreateQueueRequest: Encodable {
        var QueueName: String
        var Attributes: [String: String]?
    }

    private struct CreateQueueResponse: Decodable {
        var QueueUrl: String
    }

    /// Creates the queue (or finds the one with the same attributes) and returns its URL.
    public func createQueue(name: String, attributes: [String: String] = [:]) throws(AWSError) -> String {
        let response: CreateQueueResponse = try json.call(
            "CreateQueue", CreateQueueRequest(QueueName: name, Attributes: attributes.isEmpty ? nil : attributes))
        return response.QueueUrl
    }

    public struct Message: Decodable, Sendable, Equatable {
        public var messageId: String
        public var receiptHandle: String
        public var body: String
        public var messageAttributes: [String: MessageAttribute]?

        enum CodingKeys: String, CodingKey {
            case messageId = "MessageId", receiptHandle = "ReceiptHandle", body = "Body", messageAttributes = "MessageAttributes"
        }
    }

    private struct ReceiveRequest: Encodable {
        var QueueUrl: String
        var MaxNumberOfMessages: Int
        var WaitTimeSeconds: Int
        var MessageAttributeNames = ["All"]
    }

    private struct ReceiveResponse: Decodable {
        var Messages: [Message]?
    }

    /// Up to `maxMessages` (1–10), waiting at most `waitSeconds` (0–20) for the first.
    public func receiveMessages(queueURL: String, maxMessages: Int = 10, waitSeconds: Int = 0) throws(AWSError) -> [Message] {
        let response: ReceiveResponse = try json.call(
            "ReceiveMessage", ReceiveRequest(QueueUrl: queueURL, MaxNumberOfMessages: maxMessages, WaitTimeSeconds: waitSeconds))
        return response.Messages ?? []
    }
}
