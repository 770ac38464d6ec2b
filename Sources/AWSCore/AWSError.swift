import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Every failure of an AWS call: what was called, what AWS (or the network) answered.
/// Never carries a credential: messages are built from codes, names and AWS's own text.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// AWS answered with an error status and (usually) an error body.
        case service
        /// No HTTP answer: refused, reset, timed out.
        case transport(HTTPTransportError.Kind)
        /// No usable credentials.
        case credentials
        /// Missing or malformed region, endpoint or input.
        case configuration
        /// A success status with a body that could not be decoded.
        case invalidResponse
    }

    public var kind: Kind
    /// The service's short name, `DynamoDB`, `EC2`.
    public var service: String
    public var operation: String
    /// The HTTP status, 0 when there was no answer.
    public var status: Int
    /// AWS's error code without namespace (`ConditionalCheckFailedException`), or a local one
    /// (`CredentialsNotFound`, `TransportError`).
    public var code: String
    public var message: String
    public var requestID: String?
    /// The raw error body, for service-specific detail (DynamoDB's cancellation reasons).
    public var body: Data
    /// How many times the request was sent.
    public var attempts: Int

    public init(
        kind: Kind, service: String, operation: String, status: Int = 0, code: String, message: String,
        requestID: String? = nil, body: Data = Data(), attempts: Int = 1
    ) {
        self.kind = kind
        self.service = service
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.body = body
        self.attempts = attempts
    }

    public var description: String {
        var text = "\(service).\(operation) failed: \(code)"
        if status != 0 { text += " (HTTP \(status))" }
        if !message.isEmpty { text += ": \(message)" }
        if let requestID { text += " [request \(requestID)]" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    static func configuration(_ message: String, service: String = "AWS", operation: String = "configure") -> AWSError {
        AWSError(kind: .configuration, service: service, operation: operation, code: "InvalidConfiguration", message: message)
    }

    static func credentials(_ message: String) -> AWSError {
        AWSError(kind: .credentials, service: "AWS", operation: "credentials", code: "CredentialsNotFound", message: message)
    }

    static func transport(_ error: HTTPTransportError, service: String, operation: String) -> AWSError {
        AWSError(kind: .transport(error.kind), service: service, operation: operation, code: "TransportError", message: error.description)
    }

    static func invalidResponse(_ message: String, service: String, operation: String, status: Int, requestID: String?) -> AWSError {
        AWSError(
            kind: .invalidResponse, service: service, operation: operation, status: status, code: "InvalidResponse",
            message: message, requestID: requestID)
    }
}

/// What a protocol's error decoder reads out of an error response.
public struct ServiceErrorFields: Sendable, Equatable {
    public var code: String
    public var message: String
    public var requestID: String?

    public init(code: String, message: String, requestID: String?) {
        self.code = code
        self.message = message
        self.requestID = requestID
    }

    /// For bodies that say nothing (HEAD, a proxy's HTML page): a code from the status alone.
    static func fromStatus(_ status: Int, requestID: String?) -> ServiceErrorFields {
        let code = switch status {
        case 304: "NotModified"
        case 400: "BadRequest"
        case 403: "Forbidden"
        case 404: "NotFound"
        case 412: "PreconditionFailed"
        case 429: "TooManyRequests"
        case 500: "InternalError"
        case 502: "BadGateway"
        case 503: "ServiceUnavailable"
        case 504: "GatewayTimeout"
        default: "HTTP\(status)"
        }
        return ServiceErrorFields(code: code, message: "", requestID: requestID)
    }
}
