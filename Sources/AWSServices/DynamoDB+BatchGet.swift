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

    /// How often unprocessed keys are asked for again before giving up.
    static let unprocessedRounds = 5

    /// The items of `keys` in `table` that exist, in no particular order: `batchGetLimit` keys to a
    /// request, what DynamoDB leaves unprocessed asked again (a few times, with a pause).
    public func batchGetAll(
        table: String, keys: [Item], consistentRead: Bool = true, projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil
    ) throws(AWSError) -> [Item] {
        var items: [Item] = []
        var start = 0
        while start < keys.count {
            let batch = Array(keys[start..<min(start + Self.batchGetLimit, keys.count)])
            start += batch.count
            var request = KeysAndAttributes(
                keys: batch, consistentRead: consistentRead, projectionExpression: projectionExpression, expressionAttributeNames: expressionAttributeNames)
            for round in 0... {
                let answer = try batchGetItem([table: request])
                items += answer.responses[table] ?? []
                guard let left = answer.unprocessedKeys[table], !left.keys.isEmpty else { break }
                guard round < Self.unprocessedRounds else {
                    throw AWSError(
                        kind: .service, service: "DynamoDB", operation: "BatchGetItem", code: "UnprocessedKeys",
                        message: "\(left.keys.count) keys still unprocessed after \(round + 1) tries")
                }
                request = left
                RetryPolicy.blockingSleep(.milliseconds(50 << round))  // throttled: back off as the SDKs do
            }
        }
        return items
    }
}
