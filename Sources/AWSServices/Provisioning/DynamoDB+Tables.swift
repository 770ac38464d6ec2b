import AWSCore

/// Creating tables: `sortie dev` and the tests build a deployment's job table this way.
extension DynamoDB {
    public struct GlobalSecondaryIndex: Sendable, Equatable {
        public var name: String
        public var partitionKey: String
        public var sortKey: String?

        public init(name: String, partitionKey: String, sortKey: String? = nil) {
            self.name = name
            self.partitionKey = partitionKey
            self.sortKey = sortKey
        }
    }

    /// An on-demand table whose key attributes (and index keys) are all strings.
    public struct CreateTableInput: Sendable, Equatable {
        public var tableName: String
        public var partitionKey: String
        public var sortKey: String?
        public var globalSecondaryIndexes: [GlobalSecondaryIndex]

        public init(tableName: String, partitionKey: String, sortKey: String? = nil, globalSecondaryIndexes: [GlobalSecondaryIndex] = []) {
            self.tableName = tableName
            self.partitionKey = partitionKey
            self.sortKey = sortKey
            self.globalSecondaryIndexes = globalSecondaryIndexes
        }
    }

    private struct KeyElement: Encodable {
        var AttributeName: String
        var KeyType: String

        static func schema(_ partition: String, _ sort: String?) -> [KeyElement] {
            [KeyElement(AttributeName: partition, KeyType: "HASH")] + (sort.map { [KeyElement(AttributeName: $0, KeyType: "RANGE")] } ?? [])
        }
    }

    private struct AttributeDefinition: Encodable {
        var AttributeName: String
        var AttributeType = "S"
    }

    private struct Projection: Encodable {
        var ProjectionType = "ALL"
    }

    private struct IndexDefinition: Encodable {
        var IndexName: String
        var KeySchema: [KeyElement]
        var Projection = DynamoDB.Projection()
    }

    private struct CreateTableRequest: Encodable {
        var TableName: String
        var BillingMode = "PAY_PER_REQUEST"
        var AttributeDefinitions: [AttributeDefinition]
        var KeySchema: [KeyElement]
        var GlobalSecondaryIndexes: [IndexDefinition]?
    }

    /// Fails with `ResourceInUseException` when the table exists.
    public func createTable(_ input: CreateTableInput) throws(AWSError) {
        let indexKeys = input.globalSecondaryIndexes.flatMap { [$0.partitionKey] + ($0.sortKey.map { [$0] } ?? []) }
        var attributes: [String] = []
        for name in [input.partitionKey] + (input.sortKey.map { [$0] } ?? []) + indexKeys where !attributes.contains(name) {
            attributes.append(name)
        }
        let request = CreateTableRequest(
            TableName: input.tableName,
            AttributeDefinitions: attributes.map { AttributeDefinition(AttributeName: $0) },
            KeySchema: KeyElement.schema(input.partitionKey, input.sortKey),
            GlobalSecondaryIndexes: input.globalSecondaryIndexes.isEmpty ? nil : input.globalSecondaryIndexes.map {
                IndexDefinition(IndexName: $0.name, KeySchema: KeyElement.schema($0.partitionKey, $0.sortKey))
            })
        let _: EmptyOutput = try json.call("CreateTable", request)
    }

    private struct TimeToLiveRequest: Encodable {
        struct Specification: Encodable {
            var AttributeName: String
            var Enabled = true
        }
        var TableName: String
        var TimeToLiveSpecification: Specification
    }

    /// Items whose `attributeName` (epoch seconds) has passed are deleted by DynamoDB.
    public func updateTimeToLive(tableName: String, attributeName: String) throws(AWSError) {
        let request = TimeToLiveRequest(TableName: tableName, TimeToLiveSpecification: .init(AttributeName: attributeName))
        let _: EmptyOutput = try json.call("UpdateTimeToLive", request)
    }
}
