import AWSCore

/// STS, only for what a local deployment needs: a role's temporary credentials, as Lambda, EC2
/// and Batch hand them to what runs under the role.
public struct STS: Sendable {
    let query: QueryProtocolClient

    public init(client: AWSClient) {
        query = QueryProtocolClient(client: client, service: .sts, version: "2011-06-15")
    }

    public func assumeRole(roleARN: String, sessionName: String, durationSeconds: Int? = nil) throws(AWSError) -> AWSCredentials {
        var parameters = QueryParameters()
        parameters.add("RoleArn", roleARN)
        parameters.add("RoleSessionName", sessionName)
        parameters.add("DurationSeconds", durationSeconds)
        let root = try query.call("AssumeRole", parameters)
        guard let credentials = root["AssumeRoleResult", "Credentials"],
              let key = credentials["AccessKeyId"]?.text, let secret = credentials["SecretAccessKey"]?.text, let token = credentials["SessionToken"]?.text
        else {
            throw AWSError(kind: .invalidResponse, service: "STS", operation: "AssumeRole", code: "InvalidResponse", message: "no Credentials in the answer")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }
}
