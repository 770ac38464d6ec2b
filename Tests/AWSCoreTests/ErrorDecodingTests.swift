import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

private func response(_ status: Int, _ body: String, _ headers: [(String, String)] = []) -> HTTPResponse {
    HTTPResponse(status: status, headers: HTTPHeaders(headers), body: Data(body.utf8))
}

/// Error bodies shaped as each protocol's services send them.
@Suite("Error decoding")
struct ErrorDecodingTests {
    @Test("EC2: <Response><Errors><Error> with <RequestID>")
    func ec2() {
        let fields = XMLErrorDecoder.decode(response(400, """
            <?xml version="1.0" encoding="UTF-8"?>
            <Response><Errors><Error><Code>InvalidParameterValue</Code><Message>Value (t9.huge) for parameter instanceType is invalid. &quot;t9.huge&quot; is not a type.</Message></Error></Errors><RequestID>5a3b8f2c-0d4e-4b1f-9c6a-7e8d9f0a1b2c</RequestID></Response>
            """))
        #expect(fields == ServiceErrorFields(
            code: "InvalidParameterValue", message: "Value (t9.huge) for parameter instanceType is invalid. \"t9.huge\" is not a type.",
            requestID: "5a3b8f2c-0d4e-4b1f-9c6a-7e8d9f0a1b2c"))
    }

    @Test("awsQuery (SNS, IAM, STS): <ErrorResponse><Error><Type> with <RequestId>")
    func awsQuery() {
        let fields = XMLErrorDecoder.decode(response(404, """
            <ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
              <Error><Type>Sender</Type><Code>NotFound</Code><Message>Topic does not exist</Message></Error>
              <RequestId>9dd01905-5012-5f99-8663-4b3ecd0dfaef</RequestId>
            </ErrorResponse>
            """))
        #expect(fields == ServiceErrorFields(code: "NotFound", message: "Topic does not exist", requestID: "9dd01905-5012-5f99-8663-4b3ecd0dfaef"))
    }

    @Test("S3: <Error> with its own <RequestId>; a body-less HEAD takes its code from the status")
    func s3() {
        let fields = XMLErrorDecoder.decode(response(404, """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>runs/1.jsonl</Key><RequestId>4442587FB7D0A2F9</RequestId><HostId>eftixk72aD6Ap51TnqcoF8eFidJG9Z/2mkiDFu8yU9AS1ed4OpIszj7UDNEHGran</HostId></Error>
            """, [("x-amz-request-id", "HEADER-ID")]))
        #expect(fields == ServiceErrorFields(code: "NoSuchKey", message: "The specified key does not exist.", requestID: "4442587FB7D0A2F9"))

        let head = XMLErrorDecoder.decode(response(404, "", [("x-amz-request-id", "0A49CE4060975EAC")]))
        #expect(head == ServiceErrorFields(code: "NotFound", message: "", requestID: "0A49CE4060975EAC"))
        let precondition = XMLErrorDecoder.decode(response(412, ""))
        #expect(precondition.code == "PreconditionFailed")
    }

    @Test("JSON 1.0: __type with a namespace and a lower-case message (DynamoDB)")
    func json10() {
        let fields = JSONErrorDecoder.decode(response(
            400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
            [("x-amzn-RequestId", "LQ9O0P3SDN2H7R6QK3SFK3JK0VVV4KQNSO5AEMVJF66Q9ASUAAJG")]))
        #expect(fields == ServiceErrorFields(
            code: "ConditionalCheckFailedException", message: "The conditional request failed",
            requestID: "LQ9O0P3SDN2H7R6QK3SFK3JK0VVV4KQNSO5AEMVJF66Q9ASUAAJG"))
    }

    @Test("JSON 1.1: __type without a namespace and an upper-case Message")
    func json11() {
        let fields = JSONErrorDecoder.decode(response(
            400, #"{"__type":"ResourceAlreadyExistsException","Message":"The specified log stream already exists"}"#,
            [("x-amzn-RequestId", "3e5b1b1c-7c7a-4a1e-9a55-2f9f2f6e7d10")]))
        #expect(fields == ServiceErrorFields(
            code: "ResourceAlreadyExistsException", message: "The specified log stream already exists", requestID: "3e5b1b1c-7c7a-4a1e-9a55-2f9f2f6e7d10"))
    }

    @Test("REST-JSON: x-amzn-ErrorType wins, its :detail suffix is dropped (Batch, Lambda)")
    func restJSON() {
        let batch = JSONErrorDecoder.decode(response(
            400, #"{"message":"Job Queue absent does not exist"}"#,
            [("x-amzn-ErrorType", "ClientException:http://internal.amazon.com/coral/com.amazonaws.batch.v20160810/"), ("x-amzn-RequestId", "b1")]))
        #expect(batch == ServiceErrorFields(code: "ClientException", message: "Job Queue absent does not exist", requestID: "b1"))

        let lambda = JSONErrorDecoder.decode(response(
            404, #"{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:absent"}"#,
            [("X-Amzn-Errortype", "ResourceNotFoundException"), ("X-Amzn-Requestid", "l1")]))
        #expect(lambda == ServiceErrorFields(
            code: "ResourceNotFoundException", message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:absent", requestID: "l1"))

        let bodyCode = JSONErrorDecoder.decode(response(400, #"{"code":"aws.protocoltests#ComplexError:http://internal.amazon.com/","message":"m"}"#))
        #expect(bodyCode.code == "ComplexError")
    }

    @Test("a proxy's HTML page or an XML answer to a JSON service still yields a code")
    func foreignBodies() {
        let html = JSONErrorDecoder.decode(response(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"))
        #expect(html.code == "BadGateway")
        let xml = JSONErrorDecoder.decode(response(
            403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error><RequestId>x1</RequestId></ErrorResponse>"))
        #expect(xml == ServiceErrorFields(code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match", requestID: "x1"))
        let garbage = XMLErrorDecoder.decode(response(500, "not xml <<"))
        #expect(garbage.code == "InternalError")
    }

    @Test("DynamoDB's TransactionCanceledException: one reason per action, with the old item")
    func transactionCanceled() {
        let body = """
            {"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed","Item":{"state":{"S":"running"},"attempts":{"N":"2"}}}]}
            """
        let fields = JSONErrorDecoder.decode(response(400, body))
        let error = AWSError(kind: .service, service: "DynamoDB", operation: "TransactWriteItems", status: 400, code: fields.code, message: fields.message, body: Data(body.utf8))
        #expect(error.isTransactionCanceled)
        #expect(!error.isConditionalCheckFailed)
        #expect(error.transactionCancellationReasons == [
            .init(code: "None"),
            .init(code: "ConditionalCheckFailed", message: "The conditional request failed", item: ["state": .s("running"), "attempts": .n("2")]),
        ])

        // Without the structured list, the codes in the message are enough.
        let terse = AWSError(
            kind: .service, service: "DynamoDB", operation: "TransactWriteItems", status: 400, code: "TransactionCanceledException",
            message: "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, TransactionConflict]")
        #expect(terse.transactionCancellationReasons?.map(\.code) == ["ConditionalCheckFailed", "TransactionConflict"])
    }

    @Test("a failed condition can return the item as it was (ReturnValuesOnConditionCheckFailure=ALL_OLD)")
    func conditionalCheckFailedItem() {
        let body = #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed","Item":{"state":{"S":"done"}}}"#
        let error = AWSError(kind: .service, service: "DynamoDB", operation: "UpdateItem", status: 400, code: "ConditionalCheckFailedException", message: "", body: Data(body.utf8))
        #expect(error.isConditionalCheckFailed)
        #expect(error.conditionalCheckFailedItem == ["state": .s("done")])
        #expect(error.transactionCancellationReasons == nil)
    }

    @Test("end to end: the client fills service, operation, status, code, message and request id")
    func throughTheClient() async throws {
        let server = try await FakeServer.start { _, _ in
            .json(400, #"{"__type":"com.amazonaws.sqs#InvalidParameterValue","message":"Value -1 for parameter DelaySeconds is invalid."}"#,
                  headers: ["x-amzn-RequestId": "sqs-req-1"])
        }
        let error = await awsError { () throws(AWSError) in
            try SQS(client: fakeClient(server, recorder: Recorder())).sendMessageBatch(queueUrl: "q", entries: [.init(id: "1", messageBody: "b", delaySeconds: -1)])
        }
        await server.stop()
        #expect(error?.kind == .service)
        #expect(error?.service == "SQS")
        #expect(error?.operation == "SendMessageBatch")
        #expect(error?.status == 400)
        #expect(error?.code == "InvalidParameterValue")
        #expect(error?.message == "Value -1 for parameter DelaySeconds is invalid.")
        #expect(error?.requestID == "sqs-req-1")
        #expect(error?.description == "SQS.SendMessageBatch failed: InvalidParameterValue (HTTP 400): Value -1 for parameter DelaySeconds is invalid. [request sqs-req-1]")
    }

    @Test("a success whose body is not the promised JSON is an invalid-response error")
    func invalidResponse() async throws {
        let server = try await FakeServer.start { _, _ in .json(200, "[1, 2") }
        let error = await awsError { () throws(AWSError) in
            try DynamoDB(client: fakeClient(server, recorder: Recorder())).getItem(.init(tableName: "t", key: ["pk": .s("1")]))
        }
        await server.stop()
        #expect(error?.kind == .invalidResponse)
        #expect(error?.status == 200)
        #expect(error?.code == "InvalidResponse")
        #expect(server.requests.count == 1, "an undecodable success is not retried: the write may have happened")
    }
}
