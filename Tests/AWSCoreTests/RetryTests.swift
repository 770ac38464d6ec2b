@testable import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import Logging
import SortieTestSupport
import Synchronization
import Testing

/// Records sleeps instead of sleeping, and log lines instead of printing them.
final class Recorder: Sendable {
    let sleeps = Mutex<[Duration]>([])
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    var sleepHook: @Sendable (Duration) -> Void { { duration in self.sleeps.withLock { $0.append(duration) } } }

    var logger: Logger {
        var logger = Logger(label: "test.retry") { _ in RecordingHandler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    struct RecordingHandler: LogHandler {
        let recorder: Recorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorder.lines.withLock { $0.append((event.level, "\(event.message)", event.metadata ?? [:])) }
        }
    }
}

func fakeClient(_ server: FakeServer, recorder: Recorder, maxAttempts: Int = 3, random: Double = 0.5) -> AWSClient {
    AWSClient(AWSConfiguration(
        region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret-for-tests")),
        endpoints: EndpointResolver(globalOverride: server.endpoint),
        retry: RetryPolicy(maxAttempts: maxAttempts, sleep: recorder.sleepHook, random: { random }),
        logger: recorder.logger, timeout: .seconds(10)))
}

private let throttled = FakeServer.Answer.json(
    400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#,
    headers: ["x-amzn-RequestId": "THROTTLED-1"])

@Suite("Retries (standard mode)")
struct RetryTests {
    @Test("throttling twice, then success: three attempts, throttling backoff, each retry logged at debug with its code")
    func throttlingThenSuccess() async throws {
        let server = try await FakeServer.start { _, index in index < 2 ? throttled : .json(200, "{}") }
        let recorder = Recorder()
        let db = DynamoDB(client: fakeClient(server, recorder: recorder))
        try await blocking { try db.putItem(.init(tableName: "jobs", item: ["pk": .s("1")])) }
        await server.stop()

        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.headers["authorization"]?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") == true })
        #expect(server.requests.allSatisfy { $0.headers["x-amz-target"] == "DynamoDB_20120810.PutItem" })
        // Full jitter with random 0.5 under a 500 ms throttling base: 250 ms, then 500 ms.
        #expect(recorder.sleeps.withLock { $0 } == [.milliseconds(250), .milliseconds(500)])
        let retries = recorder.lines.withLock { $0 }.filter { $0.message.hasPrefix("retrying") }
        #expect(retries.count == 2)
        #expect(retries.allSatisfy { $0.level == .debug && $0.metadata["aws_code"] == "ThrottlingException" })
        #expect(retries.map { $0.metadata["attempt"] } == ["1", "2"])
        #expect(retries.first?.metadata["aws_request_id"] == "THROTTLED-1")
    }

    @Test("503 SlowDown and a bare 503, then success: S3 retries both with their own backoff")
    func serviceUnavailableThenSuccess() async throws {
        let slowDown = FakeServer.Answer.xml(503, "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>R1</RequestId></Error>")
        let server = try await FakeServer.start { _, index in
            switch index {
            case 0: slowDown
            case 1: FakeServer.Answer(status: 503)
            default: FakeServer.Answer(status: 206, headers: ["Content-Range": "bytes 0-2/10"], body: Data("abc".utf8))
            }
        }
        let recorder = Recorder()
        let s3 = S3(client: fakeClient(server, recorder: recorder))
        let object = try await blocking { try s3.getObject(bucket: "b", key: "k", range: .bytes(0...2)) }
        await server.stop()

        #expect(object.body == Data("abc".utf8))
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.headers["range"] == "bytes=0-2" && $0.path == "/b/k" })
        // SlowDown is throttling (500 ms base, first retry); the bare 503 is transient (100 ms base, second retry).
        #expect(recorder.sleeps.withLock { $0 } == [.milliseconds(250), .milliseconds(100)])
        let codes = recorder.lines.withLock { $0 }.filter { $0.message.hasPrefix("retrying") }.map { $0.metadata["aws_code"] }
        #expect(codes == ["SlowDown", "ServiceUnavailable"])
    }

    @Test("a persistent 500 is tried max-attempts times and then reported", arguments: [1, 3, 5])
    func givesUp(maxAttempts: Int) async throws {
        let server = try await FakeServer.start { _, _ in .json(500, #"{"__type":"InternalServerError","message":"Internal server error"}"#) }
        let recorder = Recorder()
        let db = DynamoDB(client: fakeClient(server, recorder: recorder, maxAttempts: maxAttempts))
        let error = await awsError { () throws(AWSError) in try db.getItem(.init(tableName: "t", key: ["pk": .s("1")])) }
        await server.stop()

        #expect(error?.code == "InternalServerError")
        #expect(error?.status == 500)
        #expect(error?.attempts == maxAttempts)
        #expect(server.requests.count == maxAttempts)
        #expect(recorder.sleeps.withLock { $0.count } == maxAttempts - 1)
        if maxAttempts > 1 { #expect(error?.description.contains("after \(maxAttempts) attempts") == true) }
    }

    @Test("validation errors, condition failures and access denials are never retried", arguments: [
        (400, "ValidationException"), (400, "ConditionalCheckFailedException"), (400, "TransactionCanceledException"),
        (403, "AccessDeniedException"), (404, "ResourceNotFoundException"),
    ])
    func notRetried(status: Int, code: String) async throws {
        let server = try await FakeServer.start { _, _ in .json(status, #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(code)","message":"no"}"#) }
        let recorder = Recorder()
        let db = DynamoDB(client: fakeClient(server, recorder: recorder, maxAttempts: 5))
        let error = await awsError { () throws(AWSError) in try db.getItem(.init(tableName: "t", key: ["pk": .s("1")])) }
        await server.stop()

        #expect(error?.code == code)
        #expect(error?.attempts == 1)
        #expect(server.requests.count == 1)
        #expect(recorder.sleeps.withLock { $0 }.isEmpty)
    }

    @Test("EC2's 500 InsufficientInstanceCapacity is answered once, not retried: the launcher moves on to another type, subnet or market")
    func ec2CapacityNotRetried() async throws {
        let server = try await FakeServer.start { _, _ in
            .xml(500, "<Response><Errors><Error><Code>InsufficientInstanceCapacity</Code><Message>We currently do not have sufficient c7i.large capacity.</Message></Error></Errors><RequestID>E0</RequestID></Response>")
        }
        let recorder = Recorder()
        let ec2 = EC2(client: fakeClient(server, recorder: recorder, maxAttempts: 5))
        let error = await awsError { () throws(AWSError) in try ec2.runInstances(.init(imageId: "ami-0abc", instanceType: "c7i.large")) }
        await server.stop()

        #expect(error?.code == "InsufficientInstanceCapacity" && error?.status == 500)
        #expect(error?.attempts == 1 && server.requests.count == 1)
        #expect(recorder.sleeps.withLock { $0 }.isEmpty)
    }

    @Test("EC2's RequestLimitExceeded is throttling")
    func ec2Throttling() async throws {
        let server = try await FakeServer.start { _, index in
            index == 0
                ? .xml(503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>E1</RequestID></Response>")
                : .xml(200, #"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>E2</requestId><reservationSet/></DescribeInstancesResponse>"#)
        }
        let recorder = Recorder()
        let output = try await blocking { try EC2(client: fakeClient(server, recorder: recorder)).describeInstances() }
        await server.stop()
        #expect(output.instances.isEmpty)
        #expect(server.requests.count == 2)
        #expect(recorder.sleeps.withLock { $0 } == [.milliseconds(250)])
        #expect(String(decoding: server.requests[0].body, as: UTF8.self) == "Action=DescribeInstances&Version=2016-11-15")
    }

    @Test("a refused connection is a transient network error: retried, then reported as transport")
    func connectionRefused() async throws {
        let port = try LoopbackHTTP.freePort()
        let recorder = Recorder()
        let client = AWSClient(AWSConfiguration(
            region: "us-east-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s")),
            endpoints: EndpointResolver(globalOverride: "http://127.0.0.1:\(port)"),
            retry: RetryPolicy(maxAttempts: 3, sleep: recorder.sleepHook, random: { 0.5 }), logger: recorder.logger))
        let error = await awsError { () throws(AWSError) in try SQS(client: client).sendMessageBatch(queueUrl: "q", entries: []) }
        #expect(error?.kind == .transport(.couldNotConnect))
        #expect(error?.attempts == 3)
        #expect(error?.status == 0)
        #expect(recorder.sleeps.withLock { $0 } == [.milliseconds(50), .milliseconds(100)])
    }

    @Test("backoff: full jitter under an exponentially growing ceiling, capped")
    func backoff() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), throttlingBaseDelay: .seconds(1), maxBackoff: .seconds(5), random: { 0.999_999 })
        let ceilings = (1...8).map { policy.backoff(retry: $0, reason: .transient) }
        let expected: [Duration] = [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .milliseconds(3200), .seconds(5), .seconds(5)]
        for (got, ceiling) in zip(ceilings, expected) {
            #expect(got <= ceiling && got > ceiling * 0.999)
        }
        #expect(policy.backoff(retry: 3, reason: .throttling) <= .seconds(4))
        #expect(policy.backoff(retry: 40, reason: .throttling) <= .seconds(5), "no overflow for a large retry count")
        let zero = RetryPolicy(random: { 0 })
        #expect(zero.backoff(retry: 2, reason: .transient) == .zero)
    }

    @Test("the retry quota stops retrying when a service keeps failing, and successes refill it")
    func quota() {
        let quota = RetryQuota()
        let throttling = AWSError(kind: .service, service: "S", operation: "O", status: 503, code: "SlowDown", message: "")
        var granted = 0
        while quota.acquire(for: throttling) != nil { granted += 1 }
        #expect(granted == RetryQuota.capacity / RetryQuota.retryCost)
        quota.release(RetryQuota.retryCost)
        #expect(quota.acquire(for: throttling) == RetryQuota.retryCost)
        let timeout = AWSError(kind: .transport(.timedOut), service: "S", operation: "O", code: "TransportError", message: "")
        quota.release(RetryQuota.retryCost)
        #expect(quota.acquire(for: timeout) == nil, "a timeout costs more than a throttle")
    }
}
