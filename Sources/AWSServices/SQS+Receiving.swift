import AWSCore

/// Reading queues: what the file sweep and `sortie dead-letters` take from dead-letter queues,
/// and what they put back.
extension SQS {
    public struct Message: Decodable, Sendable, Equatable {
        public var messageId: String
        public var receiptHandle: String
        public var body: String
        public var messageAttributes: [String: MessageAttribute]?
        /// `SentTimestamp` (ms since the epoch), `ApproximateReceiveCount`.
        public var attributes: [String: String]?

        enum CodingKeys: String, CodingKey {
            case messageId = "MessageId", receiptHandle = "ReceiptHandle", body = "Body", messageAttributes = "MessageAttributes"
            case attributes = "Attributes"
        }
    }

    private struct ReceiveRequest: Encodable {
        var QueueUrl: String
        var MaxNumberOfMessages: Int
        var WaitTimeSeconds: Int
        var MessageAttributeNames = ["All"]
        var MessageSystemAttributeNames = ["SentTimestamp", "ApproximateReceiveCount"]
        var VisibilityTimeout: Int?
    }

    private struct ReceiveResponse: Decodable {
        var Messages: [Message]?
    }

    /// Up to `maxMessages` (1–10), waiting at most `waitSeconds` (0–20) for the first; each hidden
    /// from other receivers for `visibilitySeconds` (the queue's own setting when nil).
    public func receiveMessages(queueURL: String, maxMessages: Int = 10, waitSeconds: Int = 0, visibilitySeconds: Int? = nil) throws(AWSError) -> [Message] {
        let response: ReceiveResponse = try json.call(
            "ReceiveMessage",
            ReceiveRequest(QueueUrl: queueURL, MaxNumberOfMessages: maxMessages, WaitTimeSeconds: waitSeconds, VisibilityTimeout: visibilitySeconds))
        return response.Messages ?? []
    }

    private struct DeleteRequest: Encodable {
        var QueueUrl: String
        var ReceiptHandle: String
    }

    private struct Empty: Decodable {}

    /// The message is handled: it leaves the queue.
    public func deleteMessage(queueURL: String, receiptHandle: String) throws(AWSError) {
        let _: Empty = try json.call("DeleteMessage", DeleteRequest(QueueUrl: queueURL, ReceiptHandle: receiptHandle))
    }

    private struct SendRequest: Encodable {
        var QueueUrl: String
        var MessageBody: String
        var MessageAttributes: [String: MessageAttribute]?
    }

    private struct SendResponse: Decodable {
        var MessageId: String
    }

    /// One message; returns its id.
    @discardableResult
    public func sendMessage(queueURL: String, body: String, attributes: [String: MessageAttribute]? = nil) throws(AWSError) -> String {
        let response: SendResponse = try json.call("SendMessage", SendRequest(QueueUrl: queueURL, MessageBody: body, MessageAttributes: attributes))
        return response.MessageId
    }

    private struct AttributesRequest: Encodable {
        var QueueUrl: String
        var AttributeNames: [String]
    }

    private struct AttributesResponse: Decodable {
        var Attributes: [String: String]?
    }

    /// The queue's attributes by name (`ApproximateNumberOfMessages`, `QueueArn`, …).
    public func queueAttributes(queueURL: String, names: [String]) throws(AWSError) -> [String: String] {
        let response: AttributesResponse = try json.call("GetQueueAttributes", AttributesRequest(QueueUrl: queueURL, AttributeNames: names))
        return response.Attributes ?? [:]
    }

    private struct ListRequest: Encodable {
        var QueueNamePrefix: String?
        var NextToken: String?
        var MaxResults: Int?
    }

    private struct ListResponse: Decodable {
        var QueueUrls: [String]?
        var NextToken: String?
    }

    /// Every queue whose name starts with `prefix`.
    public func listQueues(prefix: String) throws(AWSError) -> [String] {
        var urls: [String] = []
        var token: String?
        repeat {
            let page: ListResponse = try json.call("ListQueues", ListRequest(QueueNamePrefix: prefix, NextToken: token, MaxResults: 1000))
            urls += page.QueueUrls ?? []
            token = page.NextToken
        } while token != nil
        return urls
    }
}
