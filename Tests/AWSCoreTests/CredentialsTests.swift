import AWSCore
import AWSTestSupport
import Foundation
import SortieTestSupport
import Synchronization
import Testing

/// A folder with shared credentials and config files, removed when the test ends.
private struct SharedFiles: ~Copyable {
    let folder: URL

    init(credentials: String, config: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("aws-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try Data(credentials.utf8).write(to: folder.appendingPathComponent(".aws/credentials"))
        try Data(config.utf8).write(to: folder.appendingPathComponent(".aws/config"))
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// `HOME` pointing here, so the default `~/.aws/…` paths are the ones read.
    func environment(_ extra: [String: String] = [:]) -> AWSEnvironment {
        AWSEnvironment(["HOME": folder.path].merging(extra) { _, new in new })
    }
}

private let credentialsFile = """
    # written by aws configure
    [default]
    aws_access_key_id = AKIADEFAULT
    aws_secret_access_key = default-secret

    [dev]
    aws_access_key_id=AKIADEV
    aws_secret_access_key = dev#secret/with+chars ; a comment
    aws_session_token = dev-token
    """

private let configFile = """
    [default]
    region = eu-west-1
    [profile dev]
    region = ap-southeast-2
    aws_access_key_id = AKIAFROMCONFIG
    s3 =
      max_concurrent_requests = 10
    [profile config-only]
    aws_access_key_id = AKIACONFIGONLY
    aws_secret_access_key = config-only-secret
    region = us-west-2
    [profile by-role]
    role_arn = arn:aws:iam::123456789012:role/x
    [sso-session corp]
    sso_region = us-east-1
    """

@Suite("Credentials and region")
struct CredentialsTests {
    @Test("environment variables, with the session token Lambda provides")
    func environment() throws {
        let env = AWSEnvironment(["AWS_ACCESS_KEY_ID": "ASIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "env-token"])
        #expect(try EnvironmentCredentialProvider(env).credentials() == AWSCredentials(accessKeyID: "ASIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
        #expect(try EnvironmentCredentialProvider(AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": ""])).credentials().sessionToken == nil)
        #expect(throws: AWSError.self) { try EnvironmentCredentialProvider(AWSEnvironment(["AWS_ACCESS_KEY_ID": "AKIA"])).credentials() }
    }

    @Test("the shared files with AWS_PROFILE: credentials file first, then config; region from the profile")
    func sharedFiles() throws {
        let files = try SharedFiles(credentials: credentialsFile, config: configFile)
        let dev = files.environment(["AWS_PROFILE": "dev"])
        #expect(try ProfileCredentialProvider(dev).credentials() == AWSCredentials(accessKeyID: "AKIADEV", secretAccessKey: "dev#secret/with+chars", sessionToken: "dev-token"))
        #expect(AWSRegion.resolve(dev) == "ap-southeast-2")

        let fallback = files.environment()
        #expect(try ProfileCredentialProvider(fallback).credentials().accessKeyID == "AKIADEFAULT")
        #expect(AWSRegion.resolve(fallback) == "eu-west-1")

        let configOnly = files.environment(["AWS_PROFILE": "config-only"])
        #expect(try ProfileCredentialProvider(configOnly).credentials() == AWSCredentials(accessKeyID: "AKIACONFIGONLY", secretAccessKey: "config-only-secret"))

        #expect(AWSRegion.resolve(files.environment(["AWS_PROFILE": "dev", "AWS_DEFAULT_REGION": "sa-east-1"])) == "sa-east-1")
        #expect(AWSRegion.resolve(files.environment(["AWS_PROFILE": "dev", "AWS_DEFAULT_REGION": "sa-east-1", "AWS_REGION": "eu-north-1"])) == "eu-north-1")
        #expect(AWSRegion.resolve(AWSEnvironment(["HOME": "/nonexistent"])) == nil)

        let absent = try #require(throwing(try ProfileCredentialProvider(files.environment(["AWS_PROFILE": "absent"])).credentials()))
        #expect(absent.message.contains("'absent'"))
        let role = try #require(throwing(try ProfileCredentialProvider(files.environment(["AWS_PROFILE": "by-role"])).credentials()))
        #expect(role.message == "profile 'by-role' has role_arn but neither source_profile nor credential_source")
    }

    @Test("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files")
    func explicitPaths() throws {
        let files = try SharedFiles(credentials: credentialsFile, config: configFile)
        let env = AWSEnvironment([
            "HOME": "/nonexistent", "AWS_PROFILE": "dev",
            "AWS_SHARED_CREDENTIALS_FILE": files.folder.appendingPathComponent(".aws/credentials").path,
            "AWS_CONFIG_FILE": files.folder.appendingPathComponent(".aws/config").path,
        ])
        #expect(try ProfileCredentialProvider(env).credentials().accessKeyID == "AKIADEV")
        #expect(AWSRegion.resolve(env) == "ap-southeast-2")
    }

    @Test("the default chain: environment before files; when nothing answers, every reason is listed and no secret")
    func chainOrder() throws {
        let files = try SharedFiles(credentials: credentialsFile, config: configFile)
        let both = files.environment(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_EC2_METADATA_DISABLED": "true"])
        #expect(try CredentialChain.default(both).credentials().accessKeyID == "AKIAENV")
        let filesOnly = files.environment(["AWS_EC2_METADATA_DISABLED": "true"])
        #expect(try CredentialChain.default(filesOnly).credentials().accessKeyID == "AKIADEFAULT")

        let nothing = AWSEnvironment(["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"])
        let error = try #require(throwing(try CredentialChain.default(nothing).credentials()))
        #expect(error.kind == .credentials)
        #expect(error.message.contains("environment: AWS_ACCESS_KEY_ID is not set"))
        #expect(error.message.contains("shared files: profile 'default'"))
        #expect(!error.message.contains("instance metadata"), "AWS_EC2_METADATA_DISABLED keeps IMDS out of the chain")
    }

    @Test("credentials print, reflect and dump without their secret or token")
    func redaction() {
        let credentials = AWSCredentials(accessKeyID: "AKIAVISIBLE", secretAccessKey: "TOP-SECRET-VALUE", sessionToken: "SESSION-TOKEN-VALUE")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in ["\(credentials)", String(reflecting: credentials), String(describing: credentials), dumped] {
            #expect(text.contains("AKIAVISIBLE"))
            #expect(!text.contains("TOP-SECRET-VALUE"))
            #expect(!text.contains("SESSION-TOKEN-VALUE"))
        }
    }

    @Test("the configuration from the environment: region required, AWS_MAX_ATTEMPTS honoured")
    func configuration() throws {
        let base = ["HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"]
        let missing = try #require(throwing(try AWSConfiguration.fromEnvironment(AWSEnvironment(base))))
        #expect(missing.kind == .configuration)
        #expect(missing.message.contains("AWS_REGION"))
        let configured = try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["AWS_REGION": "eu-west-3", "AWS_MAX_ATTEMPTS": "7"]) { a, _ in a }))
        #expect(configured.region == "eu-west-3")
        #expect(configured.retry.maxAttempts == 7)
        #expect(throws: AWSError.self) {
            try AWSConfiguration.fromEnvironment(AWSEnvironment(base.merging(["AWS_REGION": "eu-west-3", "AWS_MAX_ATTEMPTS": "many"]) { a, _ in a }))
        }
    }
}

/// A fake instance metadata service speaking IMDSv2: tokens from `PUT /latest/api/token`,
/// `401` for reads without a valid one.
private final class FakeIMDS: Sendable {
    let tokenPuts = Mutex(0)
    let credentialReads = Mutex(0)
    /// Tokens issued and still honoured.
    let validTokens = Mutex<Set<String>>([])
    let expiration: Mutex<String>
    /// The role's credentials document as given, instead of a well-formed one.
    let document: String?

    init(expiration: String, document: String? = nil) {
        self.expiration = Mutex(expiration)
        self.document = document
    }

    func answer(_ request: FakeServer.Request) -> FakeServer.Answer {
        if request.method == "PUT", request.path == "/latest/api/token" {
            guard request.headers["x-aws-ec2-metadata-token-ttl-seconds"] == "21600" else { return .init(status: 400) }
            let token = "token-\(tokenPuts.withLock { $0 += 1; return $0 })"
            validTokens.withLock { _ = $0.insert(token) }
            return .init(status: 200, body: Data(token.utf8))
        }
        guard let token = request.headers["x-aws-ec2-metadata-token"], validTokens.withLock({ $0.contains(token) }) else {
            return .init(status: 401)
        }
        switch request.path {
        case "/latest/meta-data/iam/security-credentials/":
            return .init(status: 200, body: Data("sortie-runner\n".utf8))
        case "/latest/meta-data/iam/security-credentials/sortie-runner":
            let read = credentialReads.withLock { $0 += 1; return $0 }
            if let document { return .init(status: 200, body: Data(document.utf8)) }
            return .init(status: 200, body: Data("""
                {"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS\(read)",\
                "SecretAccessKey":"imds-secret","Token":"imds-token","Expiration":"\(expiration.withLock { $0 })"}
                """.utf8))
        case "/latest/meta-data/placement/region":
            return .init(status: 200, body: Data("eu-central-1".utf8))
        default:
            return .init(status: 404)
        }
    }
}

@Suite("Instance metadata (IMDSv2)")
struct InstanceMetadataTests {
    /// The SDKs' 1 s suits a metadata service next door; a loaded test machine needs slack, or a
    /// timed-out token request is retried and the token counts below are off.
    static let timeout = Duration.seconds(10)

    @Test("AWS_METADATA_SERVICE_TIMEOUT and AWS_METADATA_SERVICE_NUM_ATTEMPTS as the SDKs read them")
    func patienceFromEnvironment() {
        let tuned = InstanceMetadataClient(environment: AWSEnvironment(["AWS_METADATA_SERVICE_TIMEOUT": "2.5", "AWS_METADATA_SERVICE_NUM_ATTEMPTS": "4"]))
        #expect(tuned.timeout == .milliseconds(2500))
        #expect(tuned.attempts == 4)
        for (timeout, attempts) in [("", ""), ("soon", "many"), ("0", "0"), ("-3", "-1")] {
            let client = InstanceMetadataClient(environment: AWSEnvironment(["AWS_METADATA_SERVICE_TIMEOUT": timeout, "AWS_METADATA_SERVICE_NUM_ATTEMPTS": attempts]))
            #expect(client.timeout == .seconds(1), "timeout \(timeout)")
            #expect(client.attempts == 2, "attempts \(attempts)")
        }
    }

    @Test("role credentials through a session token; cached while valid; the region too")
    func credentials() async throws {
        let imds = FakeIMDS(expiration: "2099-01-01T00:00:00Z")
        let server = try await FakeServer.start { request, _ in imds.answer(request) }
        let client = InstanceMetadataClient(endpoint: server.endpoint + "/", timeout: Self.timeout)
        let provider = InstanceMetadataCredentialProvider(client: client)
        let (first, second, region) = try await blocking { (try provider.credentials(), try provider.credentials(), try client.region()) }
        await server.stop()

        #expect(first == AWSCredentials(
            accessKeyID: "ASIAIMDS1", secretAccessKey: "imds-secret", sessionToken: "imds-token",
            expiration: try Date("2099-01-01T00:00:00Z", strategy: .iso8601)))
        #expect(second == first, "cached until close to expiry")
        #expect(region == "eu-central-1")
        #expect(imds.tokenPuts.withLock { $0 } == 1, "one token serves every read")
        #expect(server.requests.first.map { $0.method == "PUT" && $0.path == "/latest/api/token" } == true)
        #expect(server.requests.dropFirst().allSatisfy { $0.headers["x-aws-ec2-metadata-token"] == "token-1" })
    }

    @Test("a document with an empty key or secret is refused, not used to sign (found by bench/fuzz.sh)", arguments: [
        #"{"Code":"Success","AccessKeyId":"","SecretAccessKey":"s","Token":"t"}"#,
        #"{"Code":"Success","AccessKeyId":"ASIA1","SecretAccessKey":"","Token":"t"}"#,
    ])
    func emptyKey(document: String) async throws {
        let imds = FakeIMDS(expiration: "2099-01-01T00:00:00Z", document: document)
        let server = try await FakeServer.start { request, _ in imds.answer(request) }
        let provider = InstanceMetadataCredentialProvider(client: InstanceMetadataClient(endpoint: server.endpoint + "/", timeout: Self.timeout))
        await #expect(throws: AWSError.self) { _ = try await blocking { try provider.credentials() } }
        await server.stop()
    }

    @Test("credentials close to expiry are fetched again; a rejected token is replaced once")
    func refresh() async throws {
        let soon = Date().addingTimeInterval(120).formatted(.iso8601)
        let imds = FakeIMDS(expiration: soon)
        let server = try await FakeServer.start { request, _ in imds.answer(request) }
        let client = InstanceMetadataClient(endpoint: server.endpoint, timeout: Self.timeout)
        let provider = InstanceMetadataCredentialProvider(client: client)
        let first = try await blocking { try provider.credentials() }
        imds.validTokens.withLock { $0.removeAll() }  // IMDS restarted: the cached token is now refused
        let second = try await blocking { try provider.credentials() }
        await server.stop()

        #expect(first.accessKeyID == "ASIAIMDS1")
        #expect(second.accessKeyID == "ASIAIMDS2", "expiring within five minutes: refreshed")
        #expect(imds.tokenPuts.withLock { $0 } == 2)
        #expect(server.requests.filter { $0.headers["x-aws-ec2-metadata-token"] == "token-1" }.count >= 1)
    }

    @Test("the default chain reaches IMDS through AWS_EC2_METADATA_SERVICE_ENDPOINT when nothing else answers")
    func chain() async throws {
        let imds = FakeIMDS(expiration: "2099-01-01T00:00:00Z")
        let server = try await FakeServer.start { request, _ in imds.answer(request) }
        // A patient client: the fake answers at once, but a loaded machine may not schedule it within the default 1 s.
        let env = AWSEnvironment(["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.endpoint, "AWS_METADATA_SERVICE_TIMEOUT": "10"])
        let credentials = try await blocking { try CredentialChain.default(env).credentials() }
        await server.stop()
        #expect(credentials.accessKeyID == "ASIAIMDS1")
    }

    @Test("an unreachable IMDS gives up after its attempts with a transport error that names the endpoint")
    func unreachable() async throws {
        let port = try LoopbackHTTP.freePort()
        let provider = InstanceMetadataCredentialProvider(client: InstanceMetadataClient(endpoint: "http://127.0.0.1:\(port)", attempts: 3))
        let error = await awsError { () throws(AWSError) in try provider.credentials() }
        #expect(error?.kind == .transport(.couldNotConnect))
        #expect(error?.message.contains("127.0.0.1:\(port)") == true)
        #expect(error?.attempts == 3)
        #expect(error?.description.contains("after 3 attempts") == true)
    }
}

/// The `AWSError` an expression throws, or nil (recording an issue) when it throws nothing.
func throwing<T>(_ body: @autoclosure () throws(AWSError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> AWSError? {
    do {
        _ = try body()
        Issue.record("expected an AWSError", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

