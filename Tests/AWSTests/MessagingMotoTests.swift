import AWSCore
import AWSServices
import Foundation
import SortieTestSupport
import Testing

/// SQS, SNS, Lambda and CloudWatch Logs: the notification and logging side of Sortie.
@Suite("SQS, SNS, Lambda and CloudWatch Logs against moto")
struct MessagingMotoTests {
    private static func sqsJSON(_ client: AWSClient) -> JSONProtocolClient {
        JSONProtocolClient(client: client, service: .sqs, version: "1.0", targetPrefix: "AmazonSQS")
    }

    private static func createQueue(_ client: AWSClient, _ name: String) throws(AWSError) -> String {
        let answer: JSON = try sqsJSON(client).call("CreateQueue", ["QueueName": .string(name)] as JSON)
        return answer["QueueUrl"]?.string ?? ""
    }

    private static func receive(_ client: AWSClient, _ queueUrl: String) throws(AWSError) -> [JSON] {
        let answer: JSON = try sqsJSON(client).call(
            "ReceiveMessage", ["QueueUrl": .string(queueUrl), "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"]] as JSON)
        if case .array(let messages)? = answer["Messages"] { return messages }
        return []
    }

    @Test("SendMessageBatch reports each entry: sent ones with ids, refused ones with their code")
    func sendMessageBatch() async throws {
        let server = try MotoServer.shared()
        let client = motoClient(server)
        let sqs = SQS(client: client)
        let queueUrl = try await blocking { try Self.createQueue(client, unique("retries")) }

        let output = try await blocking {
            try sqs.sendMessageBatch(queueUrl: queueUrl, entries: [
                .init(id: "a", messageBody: #"{"job":"1"}"#, messageAttributes: ["kind": .init(string: "retry")]),
                .init(id: "b", messageBody: "ü & <two>"),
                .init(id: "c", messageBody: "too late", delaySeconds: 1000),
            ])
        }
        #expect(Set(output.successful.map(\.id)) == ["a", "b"])
        #expect(output.successful.allSatisfy { !$0.messageId.isEmpty })
        #expect(output.failed.map(\.id) == ["c"])
        #expect(output.failed.first?.code == "InvalidParameterValue")
        #expect(output.failed.first?.senderFault == true)

        let received = try await blocking { try Self.receive(client, queueUrl) }
        #expect(Set(received.compactMap { $0["Body"]?.string }) == [#"{"job":"1"}"#, "ü & <two>"])

        let missing = await awsError { () throws(AWSError) in
            try sqs.sendMessageBatch(queueUrl: queueUrl.replacingOccurrences(of: "retries", with: "absent"), entries: [.init(id: "x", messageBody: "x")])
        }
        #expect(missing?.code.contains("NonExistentQueue") == true || missing?.code == "QueueDoesNotExist")
        #expect(missing?.status == 400)
    }

    @Test("Publish delivers to a subscribed queue, with its attributes")
    func publish() async throws {
        let server = try MotoServer.shared()
        let client = motoClient(server)
        let queueName = unique("notify")
        let queueUrl = try await blocking { try Self.createQueue(client, queueName) }
        let topicArn = try await blocking { () throws -> String in
            let sns = QueryProtocolClient(client: client, service: .sns, version: "2010-03-31")
            var create = QueryParameters()
            create.add("Name", unique("job-events"))
            let topic = try sns.call("CreateTopic", create)["CreateTopicResult", "TopicArn"]?.text ?? ""
            var subscribe = QueryParameters()
            subscribe.add("TopicArn", topic)
            subscribe.add("Protocol", "sqs")
            subscribe.add("Endpoint", "arn:aws:sqs:\(MotoServer.region):\(MotoServer.accountID):\(queueName)")
            _ = try sns.call("Subscribe", subscribe)
            return topic
        }

        let messageID = try await blocking {
            try SNS(client: client).publish(.init(
                topicArn: topicArn, message: #"{"job":"7","state":"failed"}"#, subject: "Job 7 failed", attributes: ["state": "failed"]))
        }
        #expect(!messageID.isEmpty)
        let delivered = try await blocking { try Self.receive(client, queueUrl) }
        let envelope = try #require(delivered.first?["Body"]?.string)
        let notification = try JSONDecoder().decode(JSON.self, from: Data(envelope.utf8))
        #expect(notification["Message"]?.string == #"{"job":"7","state":"failed"}"#)
        #expect(notification["MessageId"]?.string == messageID)
        #expect(notification["Subject"]?.string == "Job 7 failed")
        #expect(notification["MessageAttributes"]?["state"]?["Value"]?.string == "failed")

        let missing = await awsError { () throws(AWSError) in
            try SNS(client: client).publish(.init(topicArn: topicArn + "-absent", message: "x"))
        }
        #expect(missing?.code == "NotFound")
        #expect(missing?.service == "SNS")
    }

    @Test("Invoke with InvocationType=Event is accepted with 202, by name and by ARN")
    func invokeEvent() async throws {
        let server = try MotoServer.shared()
        let client = motoClient(server)
        let name = unique("reactor")
        let functionArn = try await blocking { () throws -> String in
            let role = try Fixtures.createRole(client, unique("lambda-role"))
            let created: JSON = try RestJSONProtocolClient(client: client, service: .lambda).call(
                "CreateFunction", method: "POST", path: "/2015-03-31/functions",
                body: [
                    "FunctionName": .string(name), "Runtime": "provided.al2023", "Role": .string(role), "Handler": "bootstrap",
                    "Code": ["ZipFile": .string(Data("not really a zip".utf8).base64EncodedString())],
                ] as JSON)
            return created["FunctionArn"]?.string ?? ""
        }
        let lambda = LambdaInvoke(client: client)
        let byName = try await blocking { try lambda.invoke(functionName: name, payload: Data(#"{"job":"3"}"#.utf8)) }
        #expect(byName.statusCode == 202)
        #expect(byName.functionError == nil)
        #expect(functionArn.contains(":function:"))
        let byARN = try await blocking { try lambda.invoke(functionName: functionArn, payload: Data("{}".utf8)) }
        #expect(byARN.statusCode == 202)

        // moto's Docker-less Lambda accepts any function name, so the missing-function error is
        // checked against a real-shaped body in ErrorDecodingTests instead.
    }

    @Test("CreateLogStream and PutLogEvents; events arrive oldest first")
    func logs() async throws {
        let server = try MotoServer.shared()
        let client = motoClient(server)
        let logs = CloudWatchLogs(client: client)
        let raw = JSONProtocolClient(client: client, service: .cloudWatchLogs, version: "1.1", targetPrefix: "Logs_20140328")
        let group = "/sortie/\(unique("jobs"))"
        try await blocking { let _: JSON = try raw.call("CreateLogGroup", ["logGroupName": .string(group)] as JSON) }

        try await blocking { try logs.createLogStream(group: group, stream: "job-1/attempt-1") }
        let again = await awsError { () throws(AWSError) in try logs.createLogStream(group: group, stream: "job-1/attempt-1") }
        #expect(again?.isAlreadyExists == true)

        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let put = try await blocking {
            try logs.putLogEvents(group: group, stream: "job-1/attempt-1", events: [
                .init(timestamp: now + 2, message: "third"), .init(timestamp: now, message: "first"), .init(timestamp: now + 1, message: "second ü"),
            ])
        }
        #expect(put.rejectedLogEventsInfo == nil)
        let events: JSON = try await blocking {
            try raw.call("GetLogEvents", ["logGroupName": .string(group), "logStreamName": "job-1/attempt-1", "startFromHead": true] as JSON)
        }
        guard case .array(let list)? = events["events"] else {
            Issue.record("no events in \(events)")
            return
        }
        #expect(list.compactMap { $0["message"]?.string } == ["first", "second ü", "third"])

        let noGroup = await awsError { () throws(AWSError) in try logs.createLogStream(group: group + "-absent", stream: "s") }
        #expect(noGroup?.code == "ResourceNotFoundException")
    }
}
