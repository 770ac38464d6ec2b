import CurlHTTP

/// Sends one HTTP request and blocks for the answer; a seam so tests can record or fake.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse
}

/// libcurl, with one keep-alive session per calling thread.
public struct CurlTransport: HTTPTransport {
    public init() {}

    public func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        try ThreadLocalCurlSession.current().send(request)
    }
}
