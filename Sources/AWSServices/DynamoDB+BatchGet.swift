import AWSCore

/// BatchGetItem, and the request limits DynamoDB refuses beyond (moto enforces none of them), as
/// botocore's `service-2.json` declares them: `TransactWriteItemList` and `KeyList` at most 100.
extension DynamoDB {
    /// Actions in one TransactWriteItems call.
    public static let transactionLimit = 100
    /// Keys in one BatchGetItem call, over all its tables.
    public static let batchGetLimit = 100

    /// One table's keys in a BatchGetItem, and what to read of them.
    public struct KeysAndAttributes: Codable, Sendable {
        public var keys: [Item]
        public var consistentRead: Bool?
        public var projectionExpression: String?
        public var expressionAttributeNames: [String: String]?

        public init(keys: [Item], consistentRead: Bool? = nil, projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil) {
            self.keys = keys
            self.consistentRead = consistentRead
            self.projectionExpression = projectionExpression
            self.expressionAttributeNames = expressionAttributeNames
        }

        enum CodingKeys: String, CodingKey {
            case keys = "Keys", consistentRead = "ConsistentRead", projectionExpression = "ProjectionExpression"
            case expressionAttributeNames = "ExpressionAttributeNames"
        }
    }

    struct BatchGetItemInput: Encodable {
        var requestItems: [String: KeysAndAttributes]
        enum CodingKeys: String, CodingKey { case requestItems = "RequestItems" }
    }

    public struct BatchGetItemOutput: Decodable, Sendable {
        /// The items found, by table; a key with no item is simply absent.
        public var responses: [String: [Item]]
        /// What DynamoDB did not read this time (throttling, the 16 MB answer limit): ask again.
        public var unprocessedKeys: [String: KeysAndAttributes]

        enum CodingKeys: String, CodingKey { case responses = "Responses", unprocessedKeys = "UnprocessedKeys" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            responses = try container.decodeIfPresent([String: [Item]].self, forKey: .responses) ?? [:]
            unprocessedKeys = try container.decodeIfPresent([String: KeysAndAttributes].self, forKey: .unprocessedKeys) ?? [:]
        }
    }

    /// One call: at most `batchGetLimit` keys in all, in no particular order back.
    public func batchGetItem(_ requestItems: [String: KeysAndAttributes]) throws(AWSError) -> BatchGetItemOutput {
        try json.call("BatchGetItem", BatchGetItemInput(requestItems: requestItems))
    }
}
