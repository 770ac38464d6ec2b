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
}
