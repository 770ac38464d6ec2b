#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A profile signed in with IAM Identity Center (`aws sso login`): the access token the AWS CLI
/// cached in `~/.aws/sso/cache/<sha1>.json` (SHA-1 of the `sso_session` name, or of the start URL
/// for a legacy profile) is exchanged for the role's credentials by the SSO portal's
/// GetRoleCredentials (`GET /federation/credentials`, `AWS_ENDPOINT_URL_SSO` moves it).
/// An expired token is an error telling what to run: refreshing it is the CLI's job.
public struct SSOCredentialProvider: AWSCredentialProvider {
    public var accountId: String
    public var roleName: String
    public var region: String
    /// The `sso_session` name, or the start URL of a legacy profile: what names the token's file.
    public var cacheKey: String
    let cacheFolder: String
    let endpoints: EndpointResolver
    let transport: any HTTPTransport
    let clock: @Sendable () -> Date

    public init(
        accountId: String, roleName: String, region: String, cacheKey: String, cacheFolder: String, endpoints: EndpointResolver,
        transport: any HTTPTransport = CurlTransport(), clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.accountId = accountId
        self.roleName = roleName
        self.region = region
        self.cacheKey = cacheKey
        self.cacheFolder = cacheFolder
        self.endpoints = endpoints
        self.transport = transport
        self.clock = clock
    }

    struct CachedToken: Decodable {
        var accessToken: String?
        var expiresAt: String?
    }

    struct RoleCredentials: Decodable {
        struct Credentials: Decodable {
            var accessKeyId: String?
            var secretAccessKey: String?
            var sessionToken: String?
            /// Milliseconds since the epoch.
            var expiration: Int64?
        }
        var roleCredentials: Credentials?
    }

    public var tokenFile: String {
        cacheFolder + "/" + Hashing.hex(Hashing.sha1(cacheKey)) + ".json"
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        let login = "aws sso login" + (cacheKey.contains("://") ? "" : " --sso-session \(cacheKey)")
        guard let data = try? Data(contentsOf: URL(filePath: tokenFile)),
              let cached = try? JSONDecoder().decode(CachedToken.self, from: data),
              let token = cached.accessToken, !token.isEmpty
        else {
            throw .credentials("no SSO token for '\(cacheKey)' in \(tokenFile): run \(login)")
        }
        if let expiresAt = cached.expiresAt.flatMap({ try? Date($0, strategy: .iso8601) }), expiresAt <= clock() {
            throw .credentials("the SSO token for '\(cacheKey)' expired at \(cached.expiresAt ?? ""): run \(login)")
        }
        let endpoint = try endpoints.resolve(.sso, region: region)
        let query = URIEncoding.formEncode([("account_id", accountId), ("role_name", roleName)])
        let url = "\(endpoint.url)/federation/credentials?\(query)"
        let response: HTTPResponse
        do throws(HTTPTransportError) {
            response = try transport.send(HTTPRequest(method: "GET", url: url, headers: ["x-amz-sso_bearer_token": token], timeout: .seconds(30)))
        } catch {
            throw .credentials("the SSO portal \(endpoint.url) is unreachable: \(error.message)")
        }
        guard response.isSuccess else {
            let expired = response.status == 401 || response.status == 403
            throw .credentials("SSO GetRoleCredentials for \(roleName) in \(accountId) answered HTTP \(response.status)\(expired ? ": run \(login)" : "")")
        }
        guard let answer = try? JSONDecoder().decode(RoleCredentials.self, from: response.body).roleCredentials,
              let key = answer.accessKeyId, let secret = answer.secretAccessKey
        else {
            throw .credentials("SSO GetRoleCredentials for \(roleName) in \(accountId) answered without credentials")
        }
        let expiration = answer.expiration.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: answer.sessionToken, expiration: expiration)
    }
}
