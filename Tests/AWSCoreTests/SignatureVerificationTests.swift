import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

/// moto with `INITIAL_NO_AUTH_ACTION_COUNT=4`: the first four actions create an IAM user, a
/// policy allowing everything, its attachment and an access key; every later request must carry
/// a valid SigV4 signature made with that key, or moto refuses it.
@Suite("SigV4 verified by moto")
struct SignatureVerificationTests {
    struct Fixture: Sendable {
        let server: MotoServer
        let credentials: AWSCredentials
        let userArn: String
    }

    /// Started once for the suite, on the first test's worker thread; stops with the test process.
    static let fixture = Result { () throws -> Fixture in
        let server = try MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "4"])
        let iam = QueryProtocolClient(client: motoClient(server), service: .iam, version: "2010-05-08")
        var user = QueryParameters()
        user.add("UserName", "sortie-ci")
        let userArn = try iam.call("CreateUser", user)["CreateUserResult", "User", "Arn"]?.text ?? ""
        var policy = QueryParameters()
        policy.add("PolicyName", "everything")
        policy.add("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        let policyArn = try iam.call("CreatePolicy", policy)["CreatePolicyResult", "Policy", "Arn"]?.text ?? ""
        var attach = QueryParameters()
        attach.add("UserName", "sortie-ci")
        attach.add("PolicyArn", policyArn)
        _ = try iam.call("AttachUserPolicy", attach)
        let key = try iam.call("CreateAccessKey", user)["CreateAccessKeyResult", "AccessKey"]
        guard let id = key?.string("AccessKeyId"), let secret = key?.string("SecretAccessKey") else {
            throw MotoServer.MotoError.notStarted("CreateAccessKey returned no key")
        }
        return Fixture(server: server, credentials: AWSCredentials(accessKeyID: id, secretAccessKey: secret), userArn: userArn)
    }

    private func fixture() async throws -> Fixture {
        try await blocking { try Self.fixture.get() }
    }

    @Test("correctly signed DynamoDB, S3 and EC2 requests are accepted")
    func accepted() async throws {
        let fixture = try await fixture()
        let client = motoClient(fixture.server, credentials: fixture.credentials)
        let table = unique("signed")
        let bucket = unique("signed")
        let item: DynamoDB.Item = ["pk": .s("a/b c"), "sk": .s("ü"), "n": .number(1)]
        try await blocking {
            try createJobTable(client, table)
            try DynamoDB(client: client).putItem(.init(tableName: table, item: item, conditionExpression: "attribute_not_exists(pk)"))
        }
        let read = try await blocking { try DynamoDB(client: client).getItem(.init(tableName: table, key: ["pk": .s("a/b c"), "sk": .s("ü")])) }
        #expect(read.item == item)

        let body = Data("signed payload".utf8)
        try await blocking {
            try S3(client: client).createBucket(bucket)
            try S3(client: client).putObject(bucket: bucket, key: "dir/object.txt", body: body, metadata: ["who": "sortie"])
        }
        let ranged = try await blocking { try S3(client: client).getObject(bucket: bucket, key: "dir/object.txt", range: .bytes(0...5)) }
        #expect(ranged.body == body.prefix(6))

        let instances = try await blocking { try EC2(client: client).describeInstances(filters: [.init(name: "tag:Name", values: [table])]) }
        #expect(instances.instances.isEmpty)
    }

    @Test("a request signed with the wrong secret is refused with a clear error, per protocol")
    func wrongSecret() async throws {
        let fixture = try await fixture()
        var forged = fixture.credentials
        forged.secretAccessKey = String(forged.secretAccessKey.reversed())
        let client = motoClient(fixture.server, credentials: forged)

        let dynamo = await awsError { () throws(AWSError) in
            try DynamoDB(client: client).getItem(.init(tableName: "any", key: ["pk": .s("x"), "sk": .s("y")]))
        }
        #expect(dynamo?.code == "SignatureDoesNotMatch")
        #expect(dynamo?.status == 403)
        #expect(dynamo?.message.contains("signature") == true)
        #expect(dynamo?.attempts == 1, "an authentication failure is not retried")

        let s3 = await awsError { () throws(AWSError) in try S3(client: client).getObject(bucket: "any-bucket", key: "k") }
        #expect(s3?.code == "SignatureDoesNotMatch")
        #expect(s3?.status == 403)

        let ec2 = await awsError { () throws(AWSError) in try EC2(client: client).describeInstances() }
        #expect(ec2?.code == "AuthFailure")
        #expect(ec2?.kind == .service)

        for error in [dynamo, s3, ec2].compactMap({ $0 }) {
            #expect(!error.description.contains(forged.secretAccessKey), "the secret never appears in an error")
            #expect(!error.description.contains(fixture.credentials.secretAccessKey))
        }
    }

    @Test("an S3 key with ./ and ../ segments reaches S3 as named, signed: libcurl does not rewrite the path")
    func dotSegments() async throws {
        let fixture = try await fixture()
        let client = motoClient(fixture.server, credentials: fixture.credentials, maxAttempts: 1)
        let bucket = unique("dots")
        let body = Data("id\n1\n".utf8)
        try await blocking {
            try S3(client: client).createBucket(bucket)
            try S3(client: client).putObject(bucket: bucket, key: "a/./b/../c.csv", body: body)
        }
        #expect(try await blocking { try S3(client: client).getObject(bucket: bucket, key: "a/./b/../c.csv").body } == body)
        let normalised = await awsError { () throws(AWSError) in try S3(client: client).getObject(bucket: bucket, key: "a/c.csv") }
        #expect(normalised?.code == "NoSuchKey")
    }

    @Test("temporary credentials from STS AssumeRole sign with their session token; a wrong token is refused")
    func sessionToken() async throws {
        let fixture = try await fixture()
        let client = motoClient(fixture.server, credentials: fixture.credentials)
        let roleName = unique("runner-role")
        let temporary = try await blocking { () throws -> AWSCredentials in
            let iam = QueryProtocolClient(client: client, service: .iam, version: "2010-05-08")
            var role = QueryParameters()
            role.add("RoleName", roleName)
            role.add("AssumeRolePolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"\#(fixture.userArn)"},"Action":"sts:AssumeRole"}]}"#)
            let roleArn = try iam.call("CreateRole", role)["CreateRoleResult", "Role", "Arn"]?.text ?? ""
            var policy = QueryParameters()
            policy.add("RoleName", roleName)
            policy.add("PolicyName", "everything")
            policy.add("PolicyDocument", #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            _ = try iam.call("PutRolePolicy", policy)
            var assume = QueryParameters()
            assume.add("RoleArn", roleArn)
            assume.add("RoleSessionName", "sortie-test")
            let sts = QueryProtocolClient(client: client, service: .sts, version: "2011-06-15")
            let credentials = try sts.call("AssumeRole", assume)["AssumeRoleResult", "Credentials"]
            return AWSCredentials(
                accessKeyID: credentials?.string("AccessKeyId") ?? "", secretAccessKey: credentials?.string("SecretAccessKey") ?? "",
                sessionToken: credentials?.string("SessionToken"))
        }
        #expect(temporary.sessionToken?.isEmpty == false)

        let sessionClient = motoClient(fixture.server, credentials: temporary)
        let table = unique("session")
        try await blocking {
            try createJobTable(sessionClient, table)
            try DynamoDB(client: sessionClient).putItem(.init(tableName: table, item: ["pk": .s("1"), "sk": .s("1")]))
        }

        let wrongToken = AWSCredentials(
            accessKeyID: temporary.accessKeyID, secretAccessKey: temporary.secretAccessKey,
            sessionToken: "FQoGZXIvYXdzEXAMPLE" + (temporary.sessionToken ?? ""))
        let refused = await awsError { () throws(AWSError) in
            try DynamoDB(client: motoClient(fixture.server, credentials: wrongToken)).getItem(.init(tableName: table, key: ["pk": .s("1"), "sk": .s("1")]))
        }
        #expect(refused?.code == "InvalidClientTokenId")
        #expect(refused?.status == 403)
        #expect(refused.map { !$0.description.contains(wrongToken.sessionToken ?? "-") } == true)
    }
}
