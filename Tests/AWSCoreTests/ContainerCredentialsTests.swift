@testable import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Synchronization
import Testing

/// A clock a test moves by hand, for credential expiry (signing keeps the real time).
final class TestClock: Sendable {
    private let now: Mutex<Date>
    init(_ start: Date = Date()) { now = Mutex(start) }
    var date: Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A role in the signature-checking moto allowed everything; its ARN.
func makeAllowAllRole(_ admin: AWSClient, userArn: String, trusting: String? = nil) throws -> String {
    let iam = QueryProtocolClient(client: admin, service: .iam, version: "2010-05-08")
    let name = unique("task-role")
    var role = QueryParameters()
    role.add("RoleName", name)
    role.add("AssumeRolePolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(trusting ?? userArn)"},"Action":"sts:AssumeRole"}]}"#)
    let arn = try iam.call("CreateRole", role)["CreateRoleResult", "Role", "Arn"]?.text ?? ""
    var policy = QueryParameters()
    policy.add("RoleName", name)
    policy.add("PolicyName", "everything")
    policy.add("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
    _ = try iam.call("PutRolePolicy", policy)
    return arn
}

/// The container endpoint's answer for `credentials`, expiring at `expiration`.
func containerAnswer(_ credentials: AWSCredentials, expiration: Date) -> FakeServer.Answer {
    let body: [String: String] = [
        "AccessKeyId": credentials.accessKeyID, "SecretAccessKey": credentials.secretAccessKey, "Token": credentials.sessionToken ?? "",
        "Expiration": expiration.formatted(.iso8601), "RoleArn": "arn:aws:iam::123456789012:role/task",
    ]
    return FakeServer.Answer(status: 200, headers: ["Content-Type": "application/json"], body: (try? JSONEncoder().encode(body)) ?? Data())
}

@Suite("Credentials from the container endpoint; the region from where the code runs", .serialized)
struct ContainerCredentialsTests {
    private func fixture() async throws -> SignatureVerificationTests.Fixture {
        try await blocking { try SignatureVerificationTests.fixture.get() }
    }

    @Test("AWS_CONTAINER_CREDENTIALS_FULL_URI with a token file: the endpoint's keys sign for a signature-checking moto, fetched again (with the token read again) shortly before they expire")
    func rotatingKeys() async throws {
        let fixture = try await fixture()
        let admin = motoClient(fixture.server, credentials: fixture.credentials)
        let roleArn = try await blocking { try makeAllowAllRole(admin, userArn: fixture.userArn) }
        let sets = try await blocking {
            try (0..<2).map { index in
                try AssumeRoleCredentialProvider(
                    roleArn: roleArn, sessionName: "task-\(index)", source: StaticCredentialProvider(fixture.credentials),
                    configuration: admin.configuration).credentials()
            }
        }
        #expect(sets[0].accessKeyID != sets[1].accessKeyID && sets.allSatisfy { $0.sessionToken?.isEmpty == false })
        let clock = TestClock()
        let start = clock.date
        let forged = AWSCredentials(accessKeyID: sets[1].accessKeyID, secretAccessKey: "not-" + sets[1].secretAccessKey, sessionToken: sets[1].sessionToken)
        let endpoint = try await FakeServer.start { request, index in
            guard request.method == "GET", request.path == "/v1/task-credentials" else { return FakeServer.Answer(status: 404) }
            // 15 minutes, then an hour; the third answer's secret is wrong.
            return index == 0 ? containerAnswer(sets[0], expiration: start.addingTimeInterval(900))
                : containerAnswer(index == 1 ? sets[1] : forged, expiration: start.addingTimeInterval(4 * 3600))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("container-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenFile = folder.appendingPathComponent("token")
        try Data("token-one\n".utf8).write(to: tokenFile)

        let environment = AWSEnvironment([
            "HOME": folder.path, "AWS_CONTAINER_CREDENTIALS_FULL_URI": endpoint.endpoint + "/v1/task-credentials",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile.path, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored-when-a-file-is-named",
            "AWS_EC2_METADATA_DISABLED": "true",
        ])
        let chain = CredentialChain.default(environment, clock: { clock.date })
        let client = AWSClient(AWSConfiguration(
            region: MotoServer.region, credentials: chain, endpoints: EndpointResolver(globalOverride: fixture.server.endpoint),
            retry: RetryPolicy(maxAttempts: 1)))
        let bucket = unique("task")
        try await blocking {
            try S3(client: client).createBucket(bucket)
            try S3(client: client).putObject(bucket: bucket, key: "one", body: Data("1".utf8))
        }
        #expect(endpoint.requests.count == 1, "one fetch for both requests")
        #expect(endpoint.requests.first?.headers["authorization"] == "token-one")
        #expect(try chain.credentials().accessKeyID == sets[0].accessKeyID)

        // Eleven minutes on, the first keys are within five minutes of their end: fetched again, with the token's new value.
        try Data("token-two".utf8).write(to: tokenFile)
        clock.advance(660)
        try await blocking { try S3(client: client).putObject(bucket: bucket, key: "two", body: Data("2".utf8)) }
        #expect(endpoint.requests.count == 2)
        #expect(endpoint.requests.last?.headers["authorization"] == "token-two")
        #expect(try chain.credentials().accessKeyID == sets[1].accessKeyID)
        #expect(try await blocking { try S3(client: client).getObject(bucket: bucket, key: "one").body } == Data("1".utf8))

        // Past the second keys' end, the endpoint's third answer has a wrong secret: moto refuses what it signs.
        clock.advance(4 * 3600)
        let refused = await awsError { () throws(AWSError) in try S3(client: client).getObject(bucket: bucket, key: "two") }
        #expect(endpoint.requests.count == 3)
        #expect(refused?.code == "SignatureDoesNotMatch", "\(String(describing: refused))")
        await endpoint.stop()
    }

    @Test("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on the ECS agent, fetched without a token; it wins over a full URI")
    func relativeURI() async throws {
        let credentials = AWSCredentials(accessKeyID: "ASIARELATIVE", secretAccessKey: "relative-secret", sessionToken: "relative-token")
        let agent = try await FakeServer.start { request, _ in
            request.path == "/v2/credentials/6d3b" ? containerAnswer(credentials, expiration: Date().addingTimeInterval(3600)) : FakeServer.Answer(status: 404)
        }
        let environment = AWSEnvironment([
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/6d3b", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:1/unused",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": "for-full-uris",
        ])
        let fetched = try await blocking { try ContainerCredentialProvider(environment, relativeHost: agent.endpoint).credentials() }
        #expect(fetched.accessKeyID == "ASIARELATIVE" && fetched.sessionToken == "relative-token" && fetched.expiration != nil)
        #expect(agent.requests.map(\.path) == ["/v2/credentials/6d3b"])
        #expect(agent.requests.first?.headers["authorization"] == nil)
        #expect(try ContainerCredentialProvider(environment).endpoint() == "http://169.254.170.2/v2/credentials/6d3b")
        await agent.stop()
    }

    @Test("the chain's order: environment, then profile, then container, then instance metadata; a full URI over plain HTTP to another host is refused")
    func chainOrder() async throws {
        let container = try await FakeServer.start { _, _ in
            containerAnswer(AWSCredentials(accessKeyID: "ASIACONTAINER", secretAccessKey: "s", sessionToken: "t"), expiration: Date().addingTimeInterval(3600))
        }
        let imds = try await FakeServer.start { _, _ in FakeServer.Answer(status: 500) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = [
            "HOME": folder.path, "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.endpoint + "/creds",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint,
        ]
        let fromContainer = try await blocking { try CredentialChain.default(AWSEnvironment(base)).credentials() }
        #expect(fromContainer.accessKeyID == "ASIACONTAINER")
        #expect(imds.requests.isEmpty, "instance metadata is not asked when the container answers")

        try Data("[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = p\n".utf8).write(to: folder.appendingPathComponent(".aws/credentials"))
        #expect(try CredentialChain.default(AWSEnvironment(base)).credentials().accessKeyID == "AKIAPROFILE")
        let withEnvironment = base.merging(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "e"]) { $1 }
        #expect(try CredentialChain.default(AWSEnvironment(withEnvironment)).credentials().accessKeyID == "AKIAENV")
        #expect(container.requests.count == 1)

        for (uri, allowed) in [
            ("http://example.com/creds", false), ("http://169.254.170.23/v1/credentials", true), ("http://[::1]:8080/c", true),
            ("https://creds.example.com/c", true), ("ftp://127.0.0.1/c", false), ("http://localhost.example.com/c", false),
        ] {
            let provider = ContainerCredentialProvider(AWSEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": uri]))
            #expect(((try? provider.endpoint()) != nil) == allowed, "\(uri)")
        }
        let refused = try #require(throwing(try ContainerCredentialProvider(AWSEnvironment(["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://example.com/c"])).credentials()))
        #expect(refused.message.contains("loopback host or the ECS/EKS agent, not 'example.com'"))
        await container.stop()
        await imds.stop()
    }

    @Test("no region set: a container's from its task metadata (TaskARN), an instance's from IMDS; neither is a clear error")
    func discoveredRegion() async throws {
        let task = try await FakeServer.start { request, _ in
            request.path == "/v4/abc/task"
                ? .json(200, #"{"Cluster":"default","TaskARN":"arn:aws:ecs:eu-central-1:123456789012:task/default/0f1e","AvailabilityZone":"eu-central-1b"}"#)
                : FakeServer.Answer(status: 404)
        }
        let imds = try await FakeServer.start { request, _ in
            switch (request.method, request.path) {
            case ("PUT", "/latest/api/token"): FakeServer.Answer(status: 200, body: Data("imds-token".utf8))
            case ("GET", "/latest/meta-data/placement/region") where request.headers["x-aws-ec2-metadata-token"] == "imds-token":
                FakeServer.Answer(status: 200, body: Data("ap-south-2".utf8))
            default: FakeServer.Answer(status: 401)
            }
        }
        let base = ["HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"]
        let inContainer = try await blocking {
            try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["ECS_CONTAINER_METADATA_URI_V4": task.endpoint + "/v4/abc"]) { $1 }))
        }
        #expect(inContainer.region == "eu-central-1")
        let onInstance = try await blocking {
            try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint]) { $1 }))
        }
        #expect(onInstance.region == "ap-south-2")
        let configured = try await blocking {
            try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["AWS_REGION": "us-west-2", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.endpoint]) { $1 }))
        }
        #expect(configured.region == "us-west-2")
        #expect(imds.requests.count == 2, "a configured region asks nothing")
        let nowhere = try #require(throwing(try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["AWS_EC2_METADATA_DISABLED": "true"]) { $1 }))))
        #expect(nowhere.message.hasPrefix("no AWS region: set AWS_REGION, AWS_DEFAULT_REGION or the profile's region (not in a container"))
        await task.stop()
        await imds.stop()
    }
}
