import AWSCore

/// SNS over its Query protocol: publishing notifications.
public struct SNS: Sendable {
    let query: QueryProtocolClient

    public init(client: AWSClient) {
        query = QueryProtocolClient(client: client, service: .sns, version: "2010-03-31")
    }

    public struct PublishInput: Sendable {
        public var topicArn: String
        public var message: String
        public var subject: String?
        /// String attributes, for subscription filter policies.
        public var attributes: [String: String]
        /// FIFO topics only.
        public var messageGroupId: String?
        public var messageDeduplicationId: String?

        public init(
            topicArn: String, message: String, subject: String? = nil, attributes: [String: String] = [:], messageGroupId: String? = nil,
            messageDeduplicationId: String? = nil
        ) {
            self.topicArn = topicArn
            self.message = message
            self.subject = subject
            self.attributes = attributes
            self.messageGroupId = messageGroupId
            self.messageDeduplicationId = messageDeduplicationId
        }
    }

    /// The message id SNS assigned.
    @discardableResult
    public func publish(_ input: PublishInput) throws(AWSError) -> String {
        var p = QueryParameters()
        p.add("TopicArn", input.topicArn)
        p.add("Message", input.message)
        p.add("Subject", input.subject)
        // awsQuery maps: MessageAttributes.entry.N.Name / .Value.DataType / .Value.StringValue
        for (index, (name, value)) in input.attributes.sorted(by: { $0.key < $1.key }).enumerated() {
            let prefix = "MessageAttributes.entry.\(index + 1)"
            p.add("\(prefix).Name", name)
            p.add("\(prefix).Value.DataType", "String")
            p.add("\(prefix).Value.StringValue", value)
        }
        p.add("MessageGroupId", input.messageGroupId)
        p.add("MessageDeduplicationId", input.messageDeduplicationId)
        let root = try query.call("Publish", p)
        guard let id = root["PublishResult", "MessageId"]?.text, !id.isEmpty else {
            throw AWSError(kind: .invalidResponse, service: "SNS", operation: "Publish", code: "InvalidResponse", message: "no MessageId in the answer")
        }
        return id
    }
}
