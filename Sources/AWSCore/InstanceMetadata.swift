import CurlHTTP
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// EC2 instance metadata with IMDSv2 session tokens (`PUT /latest/api/token` first, then the
/// token on every read). As in the SDKs, `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it and
/// `AWS_METADATA_SERVICE_TIMEOUT` (seconds) / `AWS_METADATA_SERVICE_NUM_ATTEMPTS` tune its patience.
public final class InstanceMetadataClient: Sendable {
    public let endpoint: String
    let transport: any HTTPTransport
    let tokenTTL: Int
    public let timeout: Duration
    public let attempts: Int
    let clock: @Sendable () -> Date
    private let token = Mutex<(value: String, expires: Date)?>(nil)

    public init(
        endpoint: String = "http://169.254.169.254", transport: any HTTPTransport = CurlTransport(),
        tokenTTL: Int = 21_600, timeout: Duration = .seconds(1), attempts: Int = 2,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.transport = transport
        self.tokenTTL = tokenTTL
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.clock = clock
    }

    public convenience init(environment: AWSEnvironment, transport: any HTTPTransport = CurlTransport(), clock: @escaping @Sendable () -> Date = Date.init) {
        // Unset, unparsable or non-positive values keep the SDKs' defaults (1 s, 2 attempts).
        let seconds = environment["AWS_METADATA_SERVICE_TIMEOUT"].flatMap(Double.init).flatMap { $0 > 0 ? $0 : nil } ?? 1
        let attempts = environment["AWS_METADATA_SERVICE_NUM_ATTEMPTS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 2
        self.init(
            endpoint: environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] ?? "http://169.254.169.254", transport: transport,
            timeout: .milliseconds(Int64(seconds * 1000)), attempts: attempts, clock: clock)
    }

    /// The text at `path` (e.g. `/latest/meta-data/instance-id`).
    public func get(_ path: String) throws(AWSError) -> String {
        var token = try sessionToken(forceRefresh: false)
        var response = try send(HTTPRequest(method: "GET", url: endpoint + path, headers: ["X-aws-ec2-metadata-token": token], timeout: timeout), path)
        if response.status == 401 {  // the token expired early (clock jump, IMDS restart): one fresh one
            token = try sessionToken(forceRefresh: true)
            response = try send(HTTPRequest(method: "GET", url: endpoint + path, headers: ["X-aws-ec2-metadata-token": token], timeout: timeout), path)
        }
        guard response.isSuccess else {
            throw error("GET \(path) answered HTTP \(response.status)", status: response.status)
        }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The instance's region, for the on-instance runner when no region is configured.
    public func region() throws(AWSError) -> String {
        try get("/latest/meta-data/placement/region").trimmingSpaces.description
    }

    private func sessionToken(forceRefresh: Bool) throws(AWSError) -> String {
        let now = clock()
        if !forceRefresh, let cached = token.withLock({ $0 }), cached.expires > now { return cached.value }
        let request = HTTPRequest(
            method: "PUT", url: endpoint + "/latest/api/token",
            headers: ["X-aws-ec2-metadata-token-ttl-seconds": String(tokenTTL)], timeout: timeout)
        let response = try send(request, "/latest/api/token")
        guard response.isSuccess, !response.body.isEmpty else {
            throw error("IMDSv2 token request answered HTTP \(response.status)", status: response.status)
        }
        let value = String(decoding: response.body, as: UTF8.self)
        // Renew a minute early so a token never dies between fetch and use.
        token.withLock { $0 = (value, now.addingTimeInterval(TimeInterval(max(tokenTTL - 60, 1)))) }
        return value
    }

    private func send(_ request: HTTPRequest, _ path: String) throws(AWSError) -> HTTPResponse {
        var lastError: HTTPTransportError?
        for _ in 0..<attempts {
            do {
                return try transport.send(request)
            } catch {
                lastError = error
            }
        }
        let detail = lastError.map { "\($0.message)" } ?? "no answer"
        throw AWSError(
            kind: .transport(lastError?.kind ?? .other), service: "IMDS", operation: path,
            code: "TransportError", message: "instance metadata at \(endpoint) unreachable: \(detail)", attempts: attempts)
    }

    private func error(_ message: String, status: Int) -> AWSError {
        AWSError(kind: .service, service: "IMDS", operation: "get", status: status, code: "InstanceMetadataError", message: message)
    }
}

/// The instance profile's role credentials, read through IMDSv2 and cached until five
/// minutes before they expire.
public final class InstanceMetadataCredentialProvider: AWSCredentialProvider {
    let client: InstanceMetadataClient
    let clock: @Sendable () -> Date
    private let cache = Mutex<AWSCredentials?>(nil)
    private static let basePath = "/latest/meta-data/iam/security-credentials/"

    public init(client: InstanceMetadataClient, clock: @escaping @Sendable () -> Date = Date.init) {
        self.client = client
        self.clock = clock
    }

    struct Document: Decodable {
        var Code: String?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }

    public func credentials() throws(AWSError) -> AWSCredentials {
        let now = clock()
        if let cached = cache.withLock({ $0 }), !cached.expires(within: 300, of: now) { return cached }
        let roles = try client.get(Self.basePath)
        guard let role = roles.split(whereSeparator: { $0 == "\n" }).first.map({ String($0.trimmingSpaces) }), !role.isEmpty else {
            throw .credentials("the instance has no IAM instance profile")
        }
        let text = try client.get(Self.basePath + URIEncoding.encode(role))
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(text.utf8)) else {
            throw .credentials("instance metadata credentials for role '\(role)' are not JSON")
        }
        guard document.Code == nil || document.Code == "Success",
              let key = document.AccessKeyId, let secret = document.SecretAccessKey, !key.isEmpty, !secret.isEmpty
        else {
            throw .credentials("instance metadata credentials for role '\(role)' unavailable: \(document.Code ?? "incomplete document")")
        }
        let expiration = document.Expiration.flatMap { try? Date($0, strategy: .iso8601) }
        let credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: document.Token, expiration: expiration)
        cache.withLock { $0 = credentials }
        return credentials
    }
}
