import AWSCore

extension SNS {
    /// Creates the topic (idempotent for the same name) and returns its ARN.
    public func createTopic(name: String) throws(AWSError) -> String {
        var parameters = QueryParameters()
        parameters.add("Name", name)
        let root = try query.call("CreateTopic", parameters)
        guard let arn = root["CreateTopicResult", "TopicArn"]?.text, !arn.isEmpty else {
            throw AWSError(kind: .invalidResponse, service: "SNS", operation: "CreateTopic", code: "InvalidResponse", message: "no TopicArn in the answer")
        }
        return arn
    }

    /// Subscribes a queue (by ARN) to the topic, raw messages off: SQS gets SNS's JSON envelope.
    public func subscribeQueue(topicARN: String, queueARN: String) throws(AWSError) {
        var parameters = QueryParameters()
        parameters.add("TopicArn", topicARN)
        parameters.add("Protocol", "sqs")
        parameters.add("Endpoint", queueARN)
        _ = try query.call("Subscribe", parameters)
    }
}
