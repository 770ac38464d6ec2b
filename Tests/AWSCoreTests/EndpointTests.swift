@testable import AWSCore
import AWSServices
import Foundation
import Synchronization
import Testing

/// Answers every request with one canned response and keeps what was sent: no network.
final class RecordingTransport: HTTPTransport {
    let sent = Mutex<[HTTPRequest]>([])
    let answer: HTTPResponse

    init(_ answer: HTTPResponse = HTTPResponse(status: 200, headers: [:], body: Data("{}".utf8))) {
        self.answer = answer
    }

    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        sent.withLock { $0.append(request) }
        return answer
    }

    var last: HTTPRequest? { sent.withLock { $0.last } }
}

private func client(region: String = "eu-west-1", endpoints: EndpointResolver = EndpointResolver(), credentials: AWSCredentials? = nil, transport: RecordingTransport) -> AWSClient {
    AWSClient(AWSConfiguration(
        region: region,
        credentials: StaticCredentialProvider(credentials ?? AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "s")),
        endpoints: endpoints, transport: transport))
}

@Suite("Endpoints and addressing")
struct EndpointTests {
    @Test("regional defaults, the China partition and IAM's global endpoint")
    func defaults() throws {
        let resolver = EndpointResolver()
        #expect(try resolver.resolve(.dynamoDB, region: "eu-west-1").url == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(try resolver.resolve(.cloudWatchLogs, region: "us-east-2").url == "https://logs.us-east-2.amazonaws.com")
        #expect(try resolver.resolve(.ec2, region: "cn-north-1").url == "https://ec2.cn-north-1.amazonaws.com.cn")
        let iam = try resolver.resolve(.iam, region: "eu-west-1")
        #expect(iam.url == "https://iam.amazonaws.com")
        #expect(iam.signingRegion == "us-east-1")
        #expect(!iam.isCustom)
        // The Price List answers for every region from us-east-1 only.
        let pricing = try resolver.resolve(.pricing, region: "eu-west-1")
        #expect(pricing.url == "https://api.pricing.us-east-1.amazonaws.com" && pricing.signingRegion == "us-east-1")
        #expect(throws: AWSError.self) { try resolver.resolve(.sqs, region: "us-east-1.evil.example/") }
    }

    @Test("AWS_ENDPOINT_URL for every service, AWS_ENDPOINT_URL_<SERVICE> for one, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS for none")
    func overrides() throws {
        let env: [String: String] = [
            "AWS_ENDPOINT_URL": "http://localhost:4566",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000/",
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": "https://logs.proxy.internal/aws/logs",
        ]
        let resolver = EndpointResolver(AWSEnvironment(env))
        let dynamo = try resolver.resolve(.dynamoDB, region: "eu-west-1")
        #expect(dynamo.url == "http://127.0.0.1:8000")
        #expect(dynamo.isCustom)
        #expect(dynamo.signingRegion == "eu-west-1")
        #expect(try resolver.resolve(.sqs, region: "eu-west-1").url == "http://localhost:4566")
        #expect(try resolver.resolve(.cloudWatchLogs, region: "eu-west-1").basePath == "/aws/logs")
        #expect(try resolver.resolve(.iam, region: "eu-west-1").url == "http://localhost:4566")
        let pricing = try EndpointResolver(AWSEnvironment(env.merging(["AWS_ENDPOINT_URL_PRICING": "http://127.0.0.1:9000"]) { $1 })).resolve(.pricing, region: "eu-west-1")
        #expect(pricing.url == "http://127.0.0.1:9000" && pricing.signingRegion == "us-east-1", "an overridden Price List still signs for us-east-1")

        let ignored = EndpointResolver(AWSEnvironment(env.merging(["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]) { a, _ in a }))
        #expect(try ignored.resolve(.dynamoDB, region: "eu-west-1").url == "https://dynamodb.eu-west-1.amazonaws.com")

        #expect(throws: AWSError.self) { try EndpointResolver(AWSEnvironment(["AWS_ENDPOINT_URL": "localhost:4566"])).resolve(.s3, region: "eu-west-1") }
    }

    @Test("S3: virtual-hosted by default, path style for dotted buckets and overridden endpoints; keys encoded once")
    func s3Addressing() throws {
        let transport = RecordingTransport(HTTPResponse(status: 200, headers: [:], body: Data()))
        let s3 = S3(client: client(transport: transport))
        _ = try s3.getObject(bucket: "sortie-chunks", key: "runs/a b/ü+1.jsonl", range: .bytes(0...99))
        let hosted = try #require(transport.last)
        #expect(hosted.url == "https://sortie-chunks.s3.eu-west-1.amazonaws.com/runs/a%20b/%C3%BC%2B1.jsonl")
        #expect(hosted.headers["Host"] == "sortie-chunks.s3.eu-west-1.amazonaws.com")
        #expect(hosted.headers["Range"] == "bytes=0-99")
        #expect(hosted.headers["X-Amz-Content-Sha256"] == Hashing.emptyPayloadHash)

        _ = try s3.headObject(bucket: "my.dotted.bucket", key: "k")
        #expect(transport.last?.url == "https://s3.eu-west-1.amazonaws.com/my.dotted.bucket/k")

        let local = S3(client: client(endpoints: EndpointResolver(serviceOverrides: ["S3": "http://127.0.0.1:9000"]), transport: transport))
        try local.putObject(bucket: "sortie-chunks", key: "k/v", body: Data("x".utf8))
        #expect(transport.last?.url == "http://127.0.0.1:9000/sortie-chunks/k/v")
        #expect(transport.last?.method == "PUT")
        #expect(transport.last?.headers["X-Amz-Content-Sha256"] == Hashing.hex(Hashing.sha256(Data("x".utf8))))
    }

    @Test("Lambda: an ARN's colons are encoded in the path once on the wire and signed encoded twice")
    func lambdaPath() throws {
        let transport = RecordingTransport(HTTPResponse(status: 202, headers: [:], body: Data()))
        let output = try LambdaInvoke(client: client(transport: transport)).invoke(
            functionName: "arn:aws:lambda:eu-west-1:123456789012:function:reactor", payload: Data(#"{"job":"1"}"#.utf8), qualifier: "live")
        #expect(output.statusCode == 202)
        let request = try #require(transport.last)
        #expect(request.url == "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Areactor/invocations?Qualifier=live")
        #expect(request.headers["X-Amz-Invocation-Type"] == "Event")
        #expect(request.headers["X-Amz-Content-Sha256"] == nil)
        #expect(SigV4Signer.canonicalURI(URLParts.path(of: request.url), style: .standard).contains("arn%253Aaws%253Alambda"))
    }

    @Test("every request is signed for its service and region, with the session token; User-Agent is not signed")
    func signedHeaders() throws {
        let transport = RecordingTransport()
        let temporary = AWSCredentials(accessKeyID: "ASIATEMP", secretAccessKey: "s", sessionToken: "the-token")
        _ = try SQS(client: client(region: "ap-south-1", credentials: temporary, transport: transport)).sendMessageBatch(queueUrl: "q", entries: [])
        let request = try #require(transport.last)
        let authorization = try #require(request.headers["Authorization"])
        #expect(authorization.contains("Credential=ASIATEMP/"))
        #expect(authorization.contains("/ap-south-1/sqs/aws4_request"))
        #expect(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"))
        #expect(request.headers["X-Amz-Security-Token"] == "the-token")
        #expect(request.headers["User-Agent"]?.isEmpty == false)
        #expect(request.headers["Content-Type"] == "application/x-amz-json-1.0")
        #expect(request.headers["X-Amz-Target"] == "AmazonSQS.SendMessageBatch")
    }
}

extension URLParts {
    static func path(of url: String) -> Substring { URLParts(url).path }
}
