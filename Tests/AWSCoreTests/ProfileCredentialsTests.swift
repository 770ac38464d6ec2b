import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

/// Profiles as the AWS CLI resolves them, against the signature-checking moto: what they give must sign.
@Suite("Role, credential_process and SSO profiles", .serialized)
struct ProfileCredentialsTests {
    struct Home {
        let folder: URL
        init(config: String, credentials: String = "") throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(".aws/sso/cache"), withIntermediateDirectories: true)
            try Data(config.utf8).write(to: folder.appendingPathComponent(".aws/config"))
            try Data(credentials.utf8).write(to: folder.appendingPathComponent(".aws/credentials"))
        }
        func environment(_ profile: String, _ extra: [String: String] = [:]) -> AWSEnvironment {
            AWSEnvironment(["HOME": folder.path, "AWS_PROFILE": profile, "AWS_EC2_METADATA_DISABLED": "true"].merging(extra) { $1 })
        }
        func remove() { try? FileManager.default.removeItem(at: folder) }
    }

    /// Signs a DynamoDB call with `credentials`: moto checks the signature and the key.
    func signs(_ fixture: SignatureVerificationTests.Fixture, _ credentials: AWSCredentials) throws -> Bool {
        try S3(client: motoClient(fixture.server, credentials: credentials)).createBucket(unique("signed"))
        return true
    }

    @Test("role_arn with source_profile (itself a role) and with credential_source = Environment: AssumeRole in moto's STS, the keys sign")
    func assumedRoles() async throws {
        let fixture = try await blocking { try SignatureVerificationTests.fixture.get() }
        let admin = motoClient(fixture.server, credentials: fixture.credentials)
        let first = try await blocking { try makeAllowAllRole(admin, userArn: fixture.userArn) }
        // The second role is assumed by the first one's session too (the chained profile).
        let second = try await blocking { try makeAllowAllRole(admin, userArn: fixture.userArn, trusting: "*") }
        let home = try Home(config: """
            [profile base]
            region = us-east-1
            [profile deploy]
            role_arn = \(first)
            source_profile = base
            role_session_name = deployer
            [profile chained]
            role_arn = \(second)
            source_profile = deploy
            [profile from-env]
            role_arn = \(first)
            credential_source = Environment
            [profile loop-a]
            role_arn = \(first)
            source_profile = loop-b
            [profile loop-b]
            role_arn = \(second)
            source_profile = loop-a
            """, credentials: """
            [base]
            aws_access_key_id = \(fixture.credentials.accessKeyID)
            aws_secret_access_key = \(fixture.credentials.secretAccessKey)
            """)
        defer { home.remove() }
        let sts = ["AWS_ENDPOINT_URL_STS": fixture.server.endpoint]
        for profile in ["deploy", "chained"] {
            let credentials = try await blocking { try CredentialChain.default(home.environment(profile, sts)).credentials() }
            #expect(credentials.accessKeyID.hasPrefix("ASIA") && credentials.sessionToken != nil && credentials.expiration != nil, "\(profile)")
            #expect(try await blocking { try signs(fixture, credentials) })
        }
        let fromEnvironment = try await blocking {
            try CredentialChain.default(home.environment("from-env", sts.merging([
                "AWS_ACCESS_KEY_ID": fixture.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": fixture.credentials.secretAccessKey]) { $1 }))
        }
        // The environment's own keys come first in the chain; the profile's role is what a profile provider gives.
        let role = try await blocking { try ProfileCredentialProvider(home.environment("from-env", sts.merging([
            "AWS_ACCESS_KEY_ID": fixture.credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": fixture.credentials.secretAccessKey]) { $1 })).credentials() }
        #expect(try fromEnvironment.credentials().accessKeyID == fixture.credentials.accessKeyID)
        #expect(role.accessKeyID.hasPrefix("ASIA"))
        #expect(try await blocking { try signs(fixture, role) })
        let loop = try #require(throwing(try ProfileCredentialProvider(home.environment("loop-a", sts)).credentials()))
        #expect(loop.message.contains("source_profile loops (loop-a → loop-b → loop-a)"), "\(loop.message)")
    }

    @Test("credential_process: the command's JSON, run without a shell, words split as a shell splits them; a failing command is named")
    func credentialProcess() async throws {
        let fixture = try await blocking { try SignatureVerificationTests.fixture.get() }
        let home = try Home(config: "")
        defer { home.remove() }
        let script = home.folder.appendingPathComponent("print creds.sh")
        try Data("""
            #!/bin/sh
            [ "$1" = "two words" ] || { echo "bad argument: $1" >&2; exit 3; }
            printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "2999-01-01T00:00:00Z"}' "$KEY" "$SECRET"
            """.utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        try Data("""
            [default]
            credential_process = "\(script.path)" 'two words'
            [profile failing]
            credential_process = "\(script.path)" other
            """.utf8).write(to: home.folder.appendingPathComponent(".aws/config"))
        let keys = ["KEY": fixture.credentials.accessKeyID, "SECRET": fixture.credentials.secretAccessKey]
        setenv("KEY", keys["KEY"] ?? "", 1)
        setenv("SECRET", keys["SECRET"] ?? "", 1)
        let credentials = try await blocking { try ProfileCredentialProvider(home.environment("default")).credentials() }
        #expect(credentials.accessKeyID == fixture.credentials.accessKeyID && credentials.expiration != nil)
        #expect(try await blocking { try signs(fixture, credentials) })
        let failing = try #require(throwing(try ProfileCredentialProvider(home.environment("failing")).credentials()))
        #expect(failing.message.hasSuffix("print creds.sh' exited with status 3"), "\(failing.message)")
    }

    @Test("SSO: the cached token of the sso-session is exchanged at the portal (a loopback stand-in) for role credentials that sign; an expired token says to log in")
    func sso() async throws {
        let fixture = try await blocking { try SignatureVerificationTests.fixture.get() }
        let admin = motoClient(fixture.server, credentials: fixture.credentials)
        let roleArn = try await blocking { try makeAllowAllRole(admin, userArn: fixture.userArn) }
        let roleCredentials = try await blocking {
            try AssumeRoleCredentialProvider(roleArn: roleArn, sessionName: "sso", source: StaticCredentialProvider(fixture.credentials), configuration: admin.configuration).credentials()
        }
        let portal = try await FakeServer.start { request, _ in
            guard request.method == "GET", request.path == "/federation/credentials", request.headers["x-amz-sso_bearer_token"] == "sso-access-token" else {
                return .json(401, #"{"message":"Session token not found or invalid"}"#)
            }
            return .json(200, #"{"roleCredentials":{"accessKeyId":"\#(roleCredentials.accessKeyID)","secretAccessKey":"\#(roleCredentials.secretAccessKey)","sessionToken":"\#(roleCredentials.sessionToken ?? "")","expiration":4102444800000}}"#)
        }
        let home = try Home(config: """
            [profile dev]
            sso_session = corp
            sso_account_id = 123456789012
            sso_role_name = Developer
            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
            sso_region = eu-west-1
            """)
        defer { home.remove() }
        // The AWS CLI's cache file: SHA-1 of the session name.
        let cache = home.folder.appendingPathComponent(".aws/sso/cache/\(Hashing.hex(Hashing.sha1("corp"))).json")
        #expect(cache.lastPathComponent == "ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
        try Data(#"{"startUrl":"https://corp.awsapps.com/start","region":"eu-west-1","accessToken":"sso-access-token","expiresAt":"2999-01-01T00:00:00Z"}"#.utf8).write(to: cache)
        let environment = home.environment("dev", ["AWS_ENDPOINT_URL_SSO": portal.endpoint])
        let credentials = try await blocking { try ProfileCredentialProvider(environment).credentials() }
        #expect(credentials.accessKeyID == roleCredentials.accessKeyID && credentials.expiration == Date(timeIntervalSince1970: 4_102_444_800))
        #expect(try await blocking { try signs(fixture, credentials) })
        #expect(portal.requests.first?.path == "/federation/credentials")

        try Data(#"{"accessToken":"sso-access-token","expiresAt":"2020-01-01T00:00:00Z"}"#.utf8).write(to: cache)
        let expired = try #require(throwing(try ProfileCredentialProvider(environment).credentials()))
        #expect(expired.message.hasSuffix("run aws sso login --sso-session corp"), "\(expired.message)")
        await portal.stop()
    }
}
