#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A role's temporary credentials from STS AssumeRole, signed with `source`'s: what a profile with
/// `role_arn` gives. Every call assumes the role again; the chain caches until shortly before
/// the credentials' expiration.
public struct AssumeRoleCredentialProvider: AWSCredentialProvider {
    public var roleArn: String
    public var sessionName: String
    public var externalId: String?
    public var durationSeconds: Int?
    let sts: QueryProtocolClient

    /// `configuration` says where STS is (its region and `AWS_ENDPOINT_URL_STS`); its
    /// credentials are replaced by `source`.
    public init(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil,
        source: any AWSCredentialProvider, configuration: AWSConfiguration
    ) {
        self.roleArn = roleArn
        self.sessionName = sessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        var configuration = configuration
        configuration.credentials = source
        sts = QueryProtocolClient(client: AWSClient(configuration), service: .sts, version: "2011-06-15")
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        var parameters = QueryParameters()
        parameters.add("RoleArn", roleArn)
        parameters.add("RoleSessionName", sessionName)
        parameters.add("ExternalId", externalId)
        parameters.add("DurationSeconds", durationSeconds)
        let answer = try sts.call("AssumeRole", parameters)
        guard let document = answer["AssumeRoleResult", "Credentials"] ?? answer["Credentials"],
              let key = document.string("AccessKeyId"), let secret = document.string("SecretAccessKey")
        else {
            throw .credentials("STS AssumeRole of \(roleArn) answered without credentials")
        }
        let expiration = document.string("Expiration").flatMap { try? Date($0, strategy: .iso8601) }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: document.string("SessionToken"), expiration: expiration)
    }
}
