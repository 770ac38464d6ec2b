import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The task role's credentials from the container credentials endpoint, as the SDKs read it in
/// ECS, Batch, Fargate and EKS Pod Identity: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (a path on
/// the ECS agent at 169.254.170.2) or else `AWS_CONTAINER_CREDENTIALS_FULL_URI`, with the
/// `Authorization` header (for a full URI) from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read on every fetch: the
/// token rotates) or `AWS_CONTAINER_AUTHORIZATION_TOKEN`. Every call fetches: the chain caches
/// until shortly before `Expiration`.
public struct ContainerCredentialProvider: AWSCredentialProvider {
    /// The ECS agent's address, where a relative URI points.
    public static let ecsHost = "http://169.254.170.2"

    let environment: AWSEnvironment
    let transport: any HTTPTransport
    let relativeHost: String
    let timeout: Duration
    let attempts: Int

    /// `relativeHost` moves the ECS agent (tests); the SDKs fix it at `ecsHost`.
    public init(
        _ environment: AWSEnvironment, transport: any HTTPTransport = CurlTransport(), relativeHost: String = Self.ecsHost,
        timeout: Duration = .seconds(2), attempts: Int = 3
    ) {
        self.environment = environment
        self.transport = transport
        self.relativeHost = relativeHost
        self.timeout = timeout
        self.attempts = max(1, attempts)
    }

    /// Whether the environment names an endpoint at all (the chain skips the provider otherwise).
    public static func isConfigured(_ environment: AWSEnvironment) -> Bool {
        environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] != nil || environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] != nil
    }

    struct Document: Decodable {
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
        var Code: String?
        var Message: String?
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        let url = try endpoint()
        var headers: HTTPHeaders = ["Accept": "application/json"]
        // The token is for a full URI (EKS Pod Identity, a custom agent); the ECS agent needs none.
        if environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] == nil, let token = try authorizationToken() {
            headers.set("Authorization", token)
        }
        let request = HTTPRequest(method: "GET", url: url, headers: headers, timeout: timeout)
        var response: HTTPResponse?
        var failure = "no answer"
        for _ in 0..<attempts {
            do throws(HTTPTransportError) {
                let answer = try transport.send(request)
                response = answer
                // The agent answers 5xx while it starts; anything else is its final word.
                if answer.status < 500 { break }
                failure = "HTTP \(answer.status)"
            } catch {
                failure = error.message
            }
        }
        guard let response else { throw .credentials("the container credentials endpoint \(url) is unreachable: \(failure)") }
        let document = try? JSONDecoder().decode(Document.self, from: response.body)
        guard response.isSuccess else {
            let detail = [document?.Code, document?.Message].compactMap { $0 }.joined(separator: ": ")
            throw .credentials("the container credentials endpoint \(url) answered HTTP \(response.status)\(detail.isEmpty ? "" : " (\(detail))")")
        }
        guard let document, let key = document.AccessKeyId, !key.isEmpty, let secret = document.SecretAccessKey, !secret.isEmpty else {
            throw .credentials("the container credentials endpoint \(url) answered without AccessKeyId and SecretAccessKey")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw .credentials("the container credentials endpoint \(url) answered an Expiration that is not ISO 8601: '\(text)'")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: document.Token, expiration: expiration)
    }

    /// The relative URI wins, as in the SDKs. A full URI must be HTTPS, or HTTP to loopback or to
    /// the ECS and EKS agents' link-local addresses: credentials never cross a network in clear.
    func endpoint() throws(AWSError) -> String {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            return relativeHost + (relative.hasPrefix("/") ? relative : "/" + relative)
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] else {
            throw .credentials("neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
        }
        let lowered = full.lowercased()
        if lowered.hasPrefix("https://") { return full }
        guard lowered.hasPrefix("http://") else {
            throw .credentials("AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http:// or https:// URL, not '\(full)'")
        }
        let authority = lowered.dropFirst("http://".count).prefix { $0 != "/" && $0 != "?" }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        let allowed = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "169.254.170.2"
            || host == "169.254.170.23" || host == "fd00:ec2::23"
        guard allowed else {
            throw .credentials("AWS_CONTAINER_CREDENTIALS_FULL_URI over http must be a loopback host or the ECS/EKS agent, not '\(host)'")
        }
        return full
    }

    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` wins over `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    func authorizationToken() throws(AWSError) -> String? {
        var token: String
        if let path = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] {
            guard let data = try? Data(contentsOf: URL(filePath: path)) else {
                throw .credentials("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(path)")
            }
            token = String(decoding: data, as: UTF8.self)
            // A file usually ends in a newline; one inside the token would split the header.
            while token.hasSuffix("\n") || token.hasSuffix("\r") { token.removeLast() }
        } else if let value = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"] {
            token = value
        } else {
            return nil
        }
        guard !token.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw .credentials("the container authorization token contains a line break")
        }
        return token
    }
}
