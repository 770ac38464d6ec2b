import AWSCore

/// Secrets Manager over JSON 1.1: the runner reads a private repository's token with it.
public struct SecretsManager: Sendable {
    let json: JSONProtocolClient

    public init(client: AWSClient) {
        json = JSONProtocolClient(client: client, service: .secretsManager, version: "1.1", targetPrefix: "secretsmanager")
    }

    struct GetSecretValueInput: Encodable {
        var secretID: String
        enum CodingKeys: String, CodingKey { case secretID = "SecretId" }
    }

    public struct SecretValue: Decodable, Sendable {
        public var arn: String?
        public var name: String?
        /// Set when the secret was stored as text; otherwise `secretBinary` (base64) is.
        public var secretString: String?
        public var secretBinary: String?
        enum CodingKeys: String, CodingKey { case arn = "ARN", name = "Name", secretString = "SecretString", secretBinary = "SecretBinary" }
    }

    /// The current version (`AWSCURRENT`). `secretID`: an ARN or a name.
    public func getSecretValue(_ secretID: String) throws(AWSError) -> SecretValue {
        try json.call("GetSecretValue", GetSecretValueInput(secretID: secretID))
    }
}
