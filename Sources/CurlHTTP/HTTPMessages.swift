#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaders
    public var body: Data
    /// Whole-request time limit; `nil` waits as long as the peer takes (the Runtime API's `next`).
    public var timeout: Duration?

    public init(method: String, url: String, headers: HTTPHeaders = [:], body: Data = Data(), timeout: Duration? = .seconds(60)) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data

    public init(status: Int, headers: HTTPHeaders, body: Data) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// The request never got an HTTP answer: refused, reset, timed out, unresolvable.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case couldNotConnect, timedOut, connectionLost, couldNotResolve, tls, other
    }
    public var kind: Kind
    public var curlCode: Int
    public var message: String
    public var method: String
    public var url: String

    public init(kind: Kind, curlCode: Int, message: String, method: String, url: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.message = message
        self.method = method
        self.url = url
    }

    public var description: String { "\(method) \(url) failed: \(message) (curl error \(curlCode))" }
}
