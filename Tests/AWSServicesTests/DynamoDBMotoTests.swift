import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

@Suite("DynamoDB against moto")
struct DynamoDBMotoTests {
    @Test("PutItem, GetItem, UpdateItem, Query and DeleteItem with condition expressions")
    func itemLifecycle() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let db = DynamoDB(client: client)
        let table = unique("jobs")
        try await blocking { try createJobTable(client, table) }

        let item: DynamoDB.Item = [
            "pk": .s("job#1"), "sk": .s("meta"), "state": .s("queued"), "attempts": .number(0),
            "labels": .ss(["gpu", "spot"]), "digest": .b(Data([0, 1, 2, 255])),
            "spec": .m(["args": .l([.s("--fast"), .bool(true), .null])]),
        ]
        try await blocking {
            try db.putItem(.init(tableName: table, item: item, conditionExpression: "attribute_not_exists(pk)"))
        }
        let duplicate = await awsError { () throws(AWSError) in
            try db.putItem(.init(tableName: table, item: item, conditionExpression: "attribute_not_exists(pk)"))
        }
        #expect(duplicate?.isConditionalCheckFailed == true)
        #expect(duplicate?.kind == .service)
        #expect(duplicate?.status == 400)
        #expect(duplicate?.attempts == 1, "a condition failure is never retried")

        let read = try await blocking { try db.getItem(.init(tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")], consistentRead: true)) }
        #expect(read.item == item)

        let updated = try await blocking {
            try db.updateItem(.init(
                tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")],
                updateExpression: "SET #state = :running, attempts = attempts + :one", conditionExpression: "#state = :queued",
                expressionAttributeNames: ["#state": "state"],
                expressionAttributeValues: [":running": .s("running"), ":queued": .s("queued"), ":one": .number(1)],
                returnValues: .allNew))
        }
        #expect(updated.attributes?["state"] == .s("running"))
        #expect(updated.attributes?["attempts"]?.int == 1)

        let stale = await awsError { () throws(AWSError) in
            try db.updateItem(.init(
                tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")], updateExpression: "SET #state = :done",
                conditionExpression: "#state = :queued", expressionAttributeNames: ["#state": "state"],
                expressionAttributeValues: [":done": .s("done"), ":queued": .s("queued")]))
        }
        #expect(stale?.isConditionalCheckFailed == true)
        #expect(stale?.code == "ConditionalCheckFailedException")

        try await blocking {
            try db.putItem(.init(tableName: table, item: ["pk": .s("job#1"), "sk": .s("attempt#1"), "exit": .number(0)]))
            try db.putItem(.init(tableName: table, item: ["pk": .s("job#1"), "sk": .s("attempt#2"), "exit": .number(137)]))
            try db.putItem(.init(tableName: table, item: ["pk": .s("job#2"), "sk": .s("meta")]))
        }
        let attempts = try await blocking {
            try db.query(.init(
                tableName: table, keyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
                expressionAttributeValues: [":pk": .s("job#1"), ":prefix": .s("attempt#")], scanIndexForward: false))
        }
        #expect(attempts.count == 2)
        #expect(attempts.items.map { $0["sk"] } == [.s("attempt#2"), .s("attempt#1")])
        let firstPage = try await blocking {
            try db.query(.init(tableName: table, keyConditionExpression: "pk = :pk", expressionAttributeValues: [":pk": .s("job#1")], limit: 1))
        }
        #expect(firstPage.items.count == 1)
        #expect(firstPage.lastEvaluatedKey != nil)

        let refused = await awsError { () throws(AWSError) in
            try db.deleteItem(.init(
                tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")], conditionExpression: "#state = :queued",
                expressionAttributeNames: ["#state": "state"], expressionAttributeValues: [":queued": .s("queued")]))
        }
        #expect(refused?.isConditionalCheckFailed == true)
        let deleted = try await blocking {
            try db.deleteItem(.init(tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")], returnValues: .allOld))
        }
        #expect(deleted.attributes?["state"] == .s("running"))
        let gone = try await blocking { try db.getItem(.init(tableName: table, key: ["pk": .s("job#1"), "sk": .s("meta")])) }
        #expect(gone.item == nil)
    }

    @Test("TransactWriteItems commits all or nothing, and a cancellation names its reasons")
    func transactions() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let db = DynamoDB(client: client)
        let table = unique("txn")
        try await blocking { try createJobTable(client, table) }

        try await blocking {
            try db.transactWriteItems([
                .put(.init(tableName: table, item: ["pk": .s("job#9"), "sk": .s("meta"), "state": .s("queued")], conditionExpression: "attribute_not_exists(pk)")),
                .put(.init(tableName: table, item: ["pk": .s("queue"), "sk": .s("job#9")])),
            ])
        }
        let both = try await blocking { try db.query(.init(tableName: table, keyConditionExpression: "pk = :pk", expressionAttributeValues: [":pk": .s("queue")])) }
        #expect(both.count == 1)

        let cancelled = await awsError { () throws(AWSError) in
            try db.transactWriteItems([
                .put(.init(tableName: table, item: ["pk": .s("job#10"), "sk": .s("meta")])),
                .conditionCheck(
                    tableName: table, key: ["pk": .s("job#9"), "sk": .s("meta")], conditionExpression: "#state = :running",
                    expressionAttributeNames: ["#state": "state"], expressionAttributeValues: [":running": .s("running")]),
                .update(.init(
                    tableName: table, key: ["pk": .s("queue"), "sk": .s("job#9")], updateExpression: "SET attempts = :one",
                    expressionAttributeValues: [":one": .number(1)])),
            ])
        }
        // Two actions on one item are a validation error, not a cancellation: a test of the test.
        let invalid = await awsError { () throws(AWSError) in
            try db.transactWriteItems([
                .put(.init(tableName: table, item: ["pk": .s("job#9"), "sk": .s("meta")])),
                .delete(.init(tableName: table, key: ["pk": .s("job#9"), "sk": .s("meta")])),
            ])
        }
        #expect(invalid?.code == "ValidationException")
        #expect(invalid?.transactionCancellationReasons == nil)
        let kept = try await blocking { try db.getItem(.init(tableName: table, key: ["pk": .s("job#9"), "sk": .s("meta")])) }
        #expect(kept.item?["state"] == .s("queued"), "the put applied before the refusal is rolled back")
        #expect(cancelled?.isTransactionCanceled == true)
        #expect(cancelled?.transactionCancellationReasons?.map(\.code) == ["None", "ConditionalCheckFailed", "None"])
        #expect(cancelled?.attempts == 1)
        let untouched = try await blocking { try db.getItem(.init(tableName: table, key: ["pk": .s("job#10"), "sk": .s("meta")])) }
        #expect(untouched.item == nil, "nothing of a cancelled transaction is written")
        let queued = try await blocking { try db.getItem(.init(tableName: table, key: ["pk": .s("queue"), "sk": .s("job#9")])) }
        #expect(queued.item?["attempts"] == nil)
    }

    @Test("one client value shared by several threads, configured from MotoServer's child-process environment")
    func sharedAcrossThreads() async throws {
        let server = try await MotoServer.shared()
        // Exactly what a function or the launcher would get: env credentials, AWS_REGION, AWS_ENDPOINT_URL.
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment.merging(["HOME": "/nonexistent"]) { a, _ in a }))
        #expect(client.configuration.region == MotoServer.region)
        let db = DynamoDB(client: client)
        let table = unique("threads")
        try await blocking { try createJobTable(client, table) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for thread in 0..<4 {
                group.addTask {
                    try await blocking {
                        for index in 0..<10 {
                            try db.putItem(.init(tableName: table, item: ["pk": .s("thread#\(thread)"), "sk": .s("item#\(index)")]))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        for thread in 0..<4 {
            let page = try await blocking { try db.query(.init(tableName: table, keyConditionExpression: "pk = :pk", expressionAttributeValues: [":pk": .s("thread#\(thread)")])) }
            #expect(page.count == 10)
        }
    }
}
