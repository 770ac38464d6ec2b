import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

/// SQS, SNS, Lambda and CloudWatch Logs: the notification and logging side of Sortie.
@Suite("SQS, SNS, Lambda and CloudWatch Logs against moto")
struct MessagingMotoTests {
    @Test("SendMessageBatch reports each entry: sent ones with ids, refused ones with their code")
    func sendMessageBatch() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let sqs = SQS(client: client)
        let queueUrl = try await blocking { try sqs.createQueue(name: unique("retries")) }

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

        let received = try await blocking { try sqs.receiveMessages(queueURL: queueUrl) }
        #expect(Set(received.map(\.body)) == [#"{"job":"1"}"#, "ü & <two>"])
        #expect(received.first { $0.body == #"{"job":"1"}"# }?.messageAttributes?["kind"]?.stringValue == "retry")

        let missing = await awsError { () throws(AWSError) in
            try sqs.sendMessageBatch(queueUrl: queueUrl.replacingOccurrences(of: "retries", with: "absent"), entries: [.init(id: "x", messageBody: "x")])
        }
        #expect(missing?.code.contains("NonExistentQueue") == true || missing?.code == "QueueDoesNotExist")
        #expect(missing?.status == 400)
    }

    @Test("Publish delivers to a subscribed queue, with its attributes")
    func publish() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let queueName = unique("notify")
        let sqs = SQS(client: client)
        let queueUrl = try await blocking { try sqs.createQueue(name: queueName) }
        let topicArn = try await blocking { () throws -> String in
            let topic = try SNS(client: client).createTopic(name: unique("job-events"))
            #expect(topic.hasPrefix("arn:aws:sns:"))
            // Subscribing is no Sortie operation; the raw Query call is enough here.
            let sns = QueryProtocolClient(client: client, service: .sns, version: "2010-03-31")
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
        let delivered = try await blocking { try sqs.receiveMessages(queueURL: queueUrl) }
        let envelope = try #require(delivered.first?.body)
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
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let name = unique("reactor")
        let functionArn = try await blocking { () throws -> String in
            let role = try IAM(client: client).createRole(name: unique("lambda-role"), servicePrincipal: "lambda.amazonaws.com")
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
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let logs = CloudWatchLogs(client: client)
        let group = "/sortie/\(unique("jobs"))"
        try await blocking { try logs.createLogGroup(group) }

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
        let events = try await blocking { try logs.getLogEvents(group: group, stream: "job-1/attempt-1") }
        #expect(events.map(\.message) == ["first", "second ü", "third"])

        let noGroup = await awsError { () throws(AWSError) in try logs.createLogStream(group: group + "-absent", stream: "s") }
        #expect(noGroup?.code == "ResourceNotFoundException")
    }
}
