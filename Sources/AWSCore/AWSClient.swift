import CurlHTTP
import Logging
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One operation's HTTP request before it has an endpoint and a signature.
public struct AWSRequest: Sendable {
    public var method: String
    /// Percent-encoded, starting with `/`, relative to the endpoint.
    public var path: String
    /// Unencoded pairs, in order; encoded once on the wire.
    public var query: [(String, String)]
    public var headers: HTTPHeaders
    public var body: Data
    /// Prepended to the endpoint's host: S3's virtual-hosted `bucket.`.
    public var hostPrefix: String

    public init(
        method: String, path: String = "/", query: [(String, String)] = [], headers: HTTPHeaders = [:],
        body: Data = Data(), hostPrefix: String = ""
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.hostPrefix = hostPrefix
    }
}

/// Turns an error response into code, message and request id: one per protocol family.
public typealias ErrorDecoder = @Sendable (HTTPResponse) -> ServiceErrorFields

/// Sends operations: resolves the endpoint, signs each attempt, retries what the standard
/// mode retries, and turns failures into `AWSError`. A value, safe to share across threads:
/// each thread gets its own libcurl session.
public struct AWSClient: Sendable {
    public let configuration: AWSConfiguration
    private let signer = SigV4Signer()
    private let quota = RetryQuota()

    public init(_ configuration: AWSConfiguration) {
        self.configuration = configuration
    }

    public static func fromEnvironment(
        _ environment: AWSEnvironment = .process, logger: Logger = Logger(label: "sortie.aws")
    ) throws(AWSError) -> AWSClient {
        AWSClient(try .fromEnvironment(environment, logger: logger))
    }

    public func endpoint(for service: AWSService) throws(AWSError) -> ResolvedEndpoint {
        try configuration.endpoints.resolve(service, region: configuration.region)
    }

    /// Sends `request` until it succeeds (2xx) or fails for good; the final error says how many attempts it took.
    public func send(
        _ request: AWSRequest, service: AWSService, operation: String, decodeError: ErrorDecoder
    ) throws(AWSError) -> HTTPResponse {
        let endpoint: ResolvedEndpoint
        do {
            endpoint = try self.endpoint(for: service)
        } catch {
            throw relabel(error, service, operation)
        }
        var url = "\(endpoint.scheme)://\(request.hostPrefix)\(endpoint.authority)\(endpoint.basePath)\(request.path)"
        if !request.query.isEmpty { url += "?" + URIEncoding.formEncode(request.query) }
        let retry = configuration.retry
        var spent = 0
        var attempt = 0
        while true {
            attempt += 1
            let credentials: AWSCredentials
            do {
                credentials = try configuration.credentials.credentials()
            } catch {
                throw relabel(error, service, operation)
            }
            var http = HTTPRequest(method: request.method, url: url, headers: request.headers, body: request.body, timeout: configuration.timeout)
            if http.headers["user-agent"] == nil { http.headers.add("User-Agent", configuration.userAgent) }
            signer.sign(
                &http, credentials: credentials, region: endpoint.signingRegion, service: service.signingName,
                style: service.signingStyle, date: AMZDate(configuration.clock()))

            var failure: AWSError
            do {
                let response = try configuration.transport.send(http)
                if response.isSuccess {
                    quota.release(spent)
                    return response
                }
                let fields = decodeError(response)
                failure = AWSError(
                    kind: .service, service: service.name, operation: operation, status: response.status, code: fields.code,
                    message: fields.message, requestID: fields.requestID, body: response.body.prefix(65_536), attempts: attempt)
            } catch {
                failure = .transport(error, service: service.name, operation: operation)
                failure.attempts = attempt
            }

            guard let reason = RetryPolicy.retryReason(failure), attempt < retry.maxAttempts else { throw failure }
            guard let cost = quota.acquire(for: failure) else {
                configuration.logger.debug("retry quota exhausted", metadata: logMetadata(failure, attempt))
                throw failure
            }
            spent += cost
            let delay = retry.backoff(retry: attempt, reason: reason)
            var metadata = logMetadata(failure, attempt)
            metadata["backoff_ms"] = "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)"
            configuration.logger.debug("retrying \(service.name).\(operation) after \(failure.code)", metadata: metadata)
            retry.sleep(delay)
        }
    }

    private func logMetadata(_ error: AWSError, _ attempt: Int) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "aws_service": "\(error.service)", "aws_operation": "\(error.operation)", "aws_code": "\(error.code)",
            "attempt": "\(attempt)", "max_attempts": "\(configuration.retry.maxAttempts)",
        ]
        if error.status != 0 { metadata["http_status"] = "\(error.status)" }
        if let id = error.requestID { metadata["aws_request_id"] = "\(id)" }
        return metadata
    }

    private func relabel(_ error: AWSError, _ service: AWSService, _ operation: String) -> AWSError {
        var error = error
        if error.kind == .configuration || error.kind == .credentials {
            error.service = service.name
            error.operation = operation
        }
        return error
    }
}
