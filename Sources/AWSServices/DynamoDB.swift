import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// DynamoDB's attribute value, `{"S": "…"}` on the wire.
public indirect enum AttributeValue: Codable, Sendable, Hashable {
    case s(String)
    /// Numbers travel as strings so no precision is lost.
    case n(String)
    case b(Data)
    case bool(Bool)
    case null
    case l([AttributeValue])
    case m([String: AttributeValue])
    case ss([String])
    case ns([String])
    case bs([Data])

    enum CodingKeys: String, CodingKey {
        case s = "S", n = "N", b = "B", bool = "BOOL", null = "NULL", l = "L", m = "M", ss = "SS", ns = "NS", bs = "BS"
    }

    public static func number(_ value: some BinaryInteger) -> AttributeValue { .n(String(value)) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let key = container.allKeys.first, container.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an attribute value has exactly one type key"))
        }
        switch key {
        case .s: self = .s(try container.decode(String.self, forKey: key))
        case .n: self = .n(try container.decode(String.self, forKey: key))
        case .b: self = .b(try container.decode(Data.self, forKey: key))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: key))
        case .null: self = .null
        case .l: self = .l(try container.decode([AttributeValue].self, forKey: key))
        case .m: self = .m(try container.decode([String: AttributeValue].self, forKey: key))
        case .ss: self = .ss(try container.decode([String].self, forKey: key))
        case .ns: self = .ns(try container.decode([String].self, forKey: key))
        case .bs: self = .bs(try container.decode([Data].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .s(let value): try container.encode(value, forKey: .s)
        case .n(let value): try container.encode(value, forKey: .n)
        case .b(let value): try container.encode(value, forKey: .b)
        case .bool(let value): try container.encode(value, forKey: .bool)
        case .null: try container.encode(true, forKey: .null)
        case .l(let value): try container.encode(value, forKey: .l)
        case .m(let value): try container.encode(value, forKey: .m)
        case .ss(let value): try container.encode(value, forKey: .ss)
        case .ns(let value): try container.encode(value, forKey: .ns)
        case .bs(let value): try container.encode(value, forKey: .bs)
        }
    }

    public var string: String? { if case .s(let value) = self { value } else { nil } }
    public var int: Int? { if case .n(let value) = self { Int(value) } else { nil } }
    public var int64: Int64? { if case .n(let value) = self { Int64(value) } else { nil } }
}

/// DynamoDB over JSON 1.0: the item operations Sortie's job model uses.
public struct DynamoDB: Sendable {
    /// An item or key: attribute names to values.
    public typealias Item = [String: AttributeValue]

    let json: JSONProtocolClient

    public init(client: AWSClient) {
        json = JSONProtocolClient(client: client, service: .dynamoDB, version: "1.0", targetPrefix: "DynamoDB_20120810")
    }

    public enum ReturnValue: String, Codable, Sendable {
        case none = "NONE", allOld = "ALL_OLD", updatedOld = "UPDATED_OLD", allNew = "ALL_NEW", updatedNew = "UPDATED_NEW"
    }

    /// Whether a failed condition returns the item as it was (`ALL_OLD`).
    public enum ReturnOnConditionFailure: String, Codable, Sendable {
        case none = "NONE", allOld = "ALL_OLD"
    }

    // MARK: GetItem

    public struct GetItemInput: Encodable, Sendable {
        public var tableName: String
        public var key: Item
        public var consistentRead: Bool?
        public var projectionExpression: String?
        public var expressionAttributeNames: [String: String]?

        public init(tableName: String, key: Item, consistentRead: Bool? = nil, projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil) {
            self.tableName = tableName
            self.key = key
            self.consistentRead = consistentRead
            self.projectionExpression = projectionExpression
            self.expressionAttributeNames = expressionAttributeNames
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", key = "Key", consistentRead = "ConsistentRead"
            case projectionExpression = "ProjectionExpression", expressionAttributeNames = "ExpressionAttributeNames"
        }
    }

    public struct GetItemOutput: Decodable, Sendable {
        /// `nil` when there is no such item.
        public var item: Item?
        enum CodingKeys: String, CodingKey { case item = "Item" }
    }

    public func getItem(_ input: GetItemInput) throws(AWSError) -> GetItemOutput {
        try json.call("GetItem", input)
    }

    // MARK: PutItem

    public struct PutItemInput: Encodable, Sendable {
        public var tableName: String
        public var item: Item
        public var conditionExpression: String?
        public var expressionAttributeNames: [String: String]?
        public var expressionAttributeValues: Item?
        public var returnValues: ReturnValue?
        public var returnValuesOnConditionCheckFailure: ReturnOnConditionFailure?

        public init(
            tableName: String, item: Item, conditionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
            expressionAttributeValues: Item? = nil, returnValues: ReturnValue? = nil, returnValuesOnConditionCheckFailure: ReturnOnConditionFailure? = nil
        ) {
            self.tableName = tableName
            self.item = item
            self.conditionExpression = conditionExpression
            self.expressionAttributeNames = expressionAttributeNames
            self.expressionAttributeValues = expressionAttributeValues
            self.returnValues = returnValues
            self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", item = "Item", conditionExpression = "ConditionExpression"
            case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
            case returnValues = "ReturnValues", returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        }
    }

    /// The old or new attributes when `ReturnValues` asked for them.
    public struct AttributesOutput: Decodable, Sendable {
        public var attributes: Item?
        enum CodingKeys: String, CodingKey { case attributes = "Attributes" }
    }

    @discardableResult
    public func putItem(_ input: PutItemInput) throws(AWSError) -> AttributesOutput {
        try json.call("PutItem", input)
    }

    // MARK: UpdateItem

    public struct UpdateItemInput: Encodable, Sendable {
        public var tableName: String
        public var key: Item
        public var updateExpression: String
        public var conditionExpression: String?
        public var expressionAttributeNames: [String: String]?
        public var expressionAttributeValues: Item?
        public var returnValues: ReturnValue?
        public var returnValuesOnConditionCheckFailure: ReturnOnConditionFailure?

        public init(
            tableName: String, key: Item, updateExpression: String, conditionExpression: String? = nil,
            expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: Item? = nil, returnValues: ReturnValue? = nil,
            returnValuesOnConditionCheckFailure: ReturnOnConditionFailure? = nil
        ) {
            self.tableName = tableName
            self.key = key
            self.updateExpression = updateExpression
            self.conditionExpression = conditionExpression
            self.expressionAttributeNames = expressionAttributeNames
            self.expressionAttributeValues = expressionAttributeValues
            self.returnValues = returnValues
            self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", key = "Key", updateExpression = "UpdateExpression", conditionExpression = "ConditionExpression"
            case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
            case returnValues = "ReturnValues", returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        }
    }

    @discardableResult
    public func updateItem(_ input: UpdateItemInput) throws(AWSError) -> AttributesOutput {
        try json.call("UpdateItem", input)
    }

    // MARK: DeleteItem

    public struct DeleteItemInput: Encodable, Sendable {
        public var tableName: String
        public var key: Item
        public var conditionExpression: String?
        public var expressionAttributeNames: [String: String]?
        public var expressionAttributeValues: Item?
        public var returnValues: ReturnValue?

        public init(
            tableName: String, key: Item, conditionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
            expressionAttributeValues: Item? = nil, returnValues: ReturnValue? = nil
        ) {
            self.tableName = tableName
            self.key = key
            self.conditionExpression = conditionExpression
            self.expressionAttributeNames = expressionAttributeNames
            self.expressionAttributeValues = expressionAttributeValues
            self.returnValues = returnValues
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", key = "Key", conditionExpression = "ConditionExpression"
            case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
            case returnValues = "ReturnValues"
        }
    }

    @discardableResult
    public func deleteItem(_ input: DeleteItemInput) throws(AWSError) -> AttributesOutput {
        try json.call("DeleteItem", input)
    }

    // MARK: Query

    public struct QueryInput: Encodable, Sendable {
        public var tableName: String
        public var indexName: String?
        public var keyConditionExpression: String
        public var filterExpression: String?
        public var projectionExpression: String?
        public var expressionAttributeNames: [String: String]?
        public var expressionAttributeValues: Item?
        public var limit: Int?
        public var exclusiveStartKey: Item?
        public var scanIndexForward: Bool?
        public var consistentRead: Bool?

        public init(
            tableName: String, indexName: String? = nil, keyConditionExpression: String, filterExpression: String? = nil,
            projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: Item? = nil,
            limit: Int? = nil, exclusiveStartKey: Item? = nil, scanIndexForward: Bool? = nil, consistentRead: Bool? = nil
        ) {
            self.tableName = tableName
            self.indexName = indexName
            self.keyConditionExpression = keyConditionExpression
            self.filterExpression = filterExpression
            self.projectionExpression = projectionExpression
            self.expressionAttributeNames = expressionAttributeNames
            self.expressionAttributeValues = expressionAttributeValues
            self.limit = limit
            self.exclusiveStartKey = exclusiveStartKey
            self.scanIndexForward = scanIndexForward
            self.consistentRead = consistentRead
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", indexName = "IndexName", keyConditionExpression = "KeyConditionExpression"
            case filterExpression = "FilterExpression", projectionExpression = "ProjectionExpression"
            case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
            case limit = "Limit", exclusiveStartKey = "ExclusiveStartKey", scanIndexForward = "ScanIndexForward", consistentRead = "ConsistentRead"
        }
    }

    public struct QueryOutput: Decodable, Sendable {
        public var items: [Item]
        public var count: Int
        /// Present when there are more pages: pass it back as `exclusiveStartKey`.
        public var lastEvaluatedKey: Item?

        enum CodingKeys: String, CodingKey { case items = "Items", count = "Count", lastEvaluatedKey = "LastEvaluatedKey" }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
            count = try container.decodeIfPresent(Int.self, forKey: .count) ?? items.count
            lastEvaluatedKey = try container.decodeIfPresent(Item.self, forKey: .lastEvaluatedKey)
        }
    }

    /// One page; loop on `lastEvaluatedKey` for more.
    public func query(_ input: QueryInput) throws(AWSError) -> QueryOutput {
        try json.call("Query", input)
    }

    // MARK: Scan

    /// The whole table, page by page (operator listings; handlers use keys and indexes).
    public struct ScanInput: Encodable, Sendable {
        public var tableName: String
        public var filterExpression: String?
        public var expressionAttributeNames: [String: String]?
        public var expressionAttributeValues: Item?
        public var exclusiveStartKey: Item?
        public var consistentRead: Bool?

        public init(
            tableName: String, filterExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
            expressionAttributeValues: Item? = nil, exclusiveStartKey: Item? = nil, consistentRead: Bool? = nil
        ) {
            self.tableName = tableName
            self.filterExpression = filterExpression
            self.expressionAttributeNames = expressionAttributeNames
            self.expressionAttributeValues = expressionAttributeValues
            self.exclusiveStartKey = exclusiveStartKey
            self.consistentRead = consistentRead
        }

        enum CodingKeys: String, CodingKey {
            case tableName = "TableName", filterExpression = "FilterExpression", expressionAttributeNames = "ExpressionAttributeNames"
            case expressionAttributeValues = "ExpressionAttributeValues", exclusiveStartKey = "ExclusiveStartKey", consistentRead = "ConsistentRead"
        }
    }

    /// One page (a Scan answers as a Query does); loop on `lastEvaluatedKey` for more.
    public func scan(_ input: ScanInput) throws(AWSError) -> QueryOutput {
        try json.call("Scan", input)
    }

    // MARK: TransactWriteItems

    /// One action of a transaction: exactly one of the four.
    public enum TransactWriteItem: Encodable, Sendable {
        case put(PutItemInput)
        case update(UpdateItemInput)
        case delete(DeleteItemInput)
        case conditionCheck(tableName: String, key: Item, conditionExpression: String, expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: Item? = nil)

        enum CodingKeys: String, CodingKey { case put = "Put", update = "Update", delete = "Delete", conditionCheck = "ConditionCheck" }

        private struct Check: Encodable {
            var tableName: String
            var key: Item
            var conditionExpression: String
            var expressionAttributeNames: [String: String]?
            var expressionAttributeValues: Item?
            enum CodingKeys: String, CodingKey {
                case tableName = "TableName", key = "Key", conditionExpression = "ConditionExpression"
                case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
            }
        }

        // Inside a transaction `ReturnValues` is not accepted: only the condition-failure variant.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .put(var input):
                input.returnValues = nil
                try container.encode(input, forKey: .put)
            case .update(var input):
                input.returnValues = nil
                try container.encode(input, forKey: .update)
            case .delete(var input):
                input.returnValues = nil
                try container.encode(input, forKey: .delete)
            case let .conditionCheck(tableName, key, condition, names, values):
                try container.encode(Check(tableName: tableName, key: key, conditionExpression: condition, expressionAttributeNames: names, expressionAttributeValues: values), forKey: .conditionCheck)
            }
        }
    }

    struct TransactWriteItemsInput: Encodable {
        var transactItems: [TransactWriteItem]
        var clientRequestToken: String?
        enum CodingKeys: String, CodingKey { case transactItems = "TransactItems", clientRequestToken = "ClientRequestToken" }
    }

    /// All or nothing. A failed condition anywhere fails the whole call with
    /// `TransactionCanceledException`; `AWSError.transactionCancellationReasons` says which.
    /// The token is made here when not given, as the SDKs fill an `idempotencyToken`: the client's
    /// own retries send the same body, so a retry of a transaction that landed but whose answer was
    /// lost is answered as the first was, instead of failing its own conditions.
    public func transactWriteItems(_ items: [TransactWriteItem], clientRequestToken: String = UUID().uuidString) throws(AWSError) {
        let _: EmptyOutput = try json.call("TransactWriteItems", TransactWriteItemsInput(transactItems: items, clientRequestToken: clientRequestToken))
    }
}

extension DynamoDB {
    /// Why each action of a cancelled transaction failed, in the order they were sent.
    public struct CancellationReason: Decodable, Sendable, Equatable {
        /// `None` for the actions that did not fail, `ConditionalCheckFailed`, `TransactionConflict`, …
        public var code: String
        public var message: String?
        /// The item as it was, when `ReturnValuesOnConditionCheckFailure` was `ALL_OLD`.
        public var item: Item?

        enum CodingKeys: String, CodingKey { case code = "Code", message = "Message", item = "Item" }

        public init(code: String, message: String? = nil, item: Item? = nil) {
            self.code = code
            self.message = message
            self.item = item
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            code = try container.decodeIfPresent(String.self, forKey: .code) ?? "None"
            message = try container.decodeIfPresent(String.self, forKey: .message)
            item = try container.decodeIfPresent(Item.self, forKey: .item)
        }
    }
}

extension AWSError {
    /// A condition expression was false: the write did not happen.
    public var isConditionalCheckFailed: Bool { code == "ConditionalCheckFailedException" }

    /// The item as it was when a single-item write's condition failed with `ALL_OLD`.
    public var conditionalCheckFailedItem: DynamoDB.Item? {
        guard isConditionalCheckFailed else { return nil }
        struct Body: Decodable { var Item: DynamoDB.Item? }
        return (try? JSONDecoder().decode(Body.self, from: body))?.Item
    }

    public var isTransactionCanceled: Bool { code == "TransactionCanceledException" }

    /// One reason per action of a cancelled transaction, or `nil` for any other error.
    public var transactionCancellationReasons: [DynamoDB.CancellationReason]? {
        guard isTransactionCanceled else { return nil }
        struct Body: Decodable { var CancellationReasons: [DynamoDB.CancellationReason]? }
        if let reasons = (try? JSONDecoder().decode(Body.self, from: body))?.CancellationReasons { return reasons }
        return Self.reasonsFromMessage(message)
    }

    /// Older endpoints only list the codes in the message: `… [ConditionalCheckFailed, None]`.
    static func reasonsFromMessage(_ message: String) -> [DynamoDB.CancellationReason]? {
        guard let open = message.lastIndex(of: "["), let close = message.lastIndex(of: "]"), open < close else { return nil }
        return message[message.index(after: open)..<close].split(separator: ",").map {
            DynamoDB.CancellationReason(code: String($0.filter { $0 != " " }))
        }
    }
}
