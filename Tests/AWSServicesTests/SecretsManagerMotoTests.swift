import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

/// Secrets Manager's GetSecretValue, as the runner reads a private repository's token.
@Suite("Secrets Manager against moto")
struct SecretsManagerMotoTests {
    @Test("GetSecretValue by name and by ARN gives the text (or the binary, base64); a missing secret is ResourceNotFoundException; AWS_ENDPOINT_URL_SECRETS_MANAGER moves the endpoint")
    func getSecretValue() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let name = "sortie/\(unique("token"))"
        let binaryName = "sortie/\(unique("binary"))"
        let arn = try await blocking { () throws -> String in
            let json = JSONProtocolClient(client: client, service: .secretsManager, version: "1.1", targetPrefix: "secretsmanager")
            struct Created: Decodable { var ARN: String }
            let created: Created = try json.call("CreateSecret", ["Name": name, "SecretString": "ghp_example\n"])
            let _: EmptyOutput = try json.call("CreateSecret", ["Name": binaryName, "SecretBinary": Data([0, 1, 2]).base64EncodedString()])
            return created.ARN
        }
        let secrets = SecretsManager(client: client)
        let byName = try await blocking { try secrets.getSecretValue(name) }
        #expect(byName.secretString == "ghp_example\n" && byName.name == name && byName.arn == arn && byName.secretBinary == nil)
        let byARN = try await blocking { try secrets.getSecretValue(arn) }
        #expect(byARN.secretString == "ghp_example\n")
        let binary = try await blocking { try secrets.getSecretValue(binaryName) }
        #expect(binary.secretString == nil && binary.secretBinary == Data([0, 1, 2]).base64EncodedString())

        let missing = await awsError { () throws(AWSError) in try secrets.getSecretValue("sortie/no-such-secret") }
        #expect(missing?.code == "ResourceNotFoundException")

        let endpoint = try EndpointResolver(AWSEnvironment(["AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL": "http://other"]))
            .resolve(.secretsManager, region: "eu-west-1")
        #expect(endpoint.url == "http://127.0.0.1:4566")
        #expect(try EndpointResolver().resolve(.secretsManager, region: "eu-west-1").authority == "secretsmanager.eu-west-1.amazonaws.com")
    }
}
