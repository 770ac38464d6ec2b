import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The HTTP side of the Runtime API contract (version 2018-06-01), over one keep-alive connection.
struct RuntimeAPIClient: RuntimeAPI {
    static let invocationIDHeader = "Lambda-Runtime-Invocation-Id"

    let session: CurlSession
    let base: String

    init(endpoint: String) throws(RuntimeAPIError) {
        do {
            session = try CurlSession.direct()
        } catch {
            throw RuntimeAPIError(description: "cannot start libcurl: \(error)")
        }
        base = "http://\(endpoint)/2018-06-01/runtime"
    }

    /// Blocks until Lambda has an event for us: no time limit.
    func next() throws(RuntimeAPIError) -> Invocation {
        let response = try send("GET", "\(base)/invocation/next", timeout: nil)
        guard response.status == 200 else {
            throw unexpected(response, "GET invocation/next")
        }
        return Invocation(payload: response.body, headers: response.headers)
    }

    func respond(to invocation: InvocationAddress, with body: Data) throws(RuntimeAPIError) -> AnswerStatus {
        let path = "invocation/\(invocation.requestID)/response"
        let response = try send("POST", "\(base)/\(path)", headers: Self.headers(for: invocation), body: body)
        return try status(of: response, "POST \(path)")
    }

    func reportError(for invocation: InvocationAddress, _ report: ErrorReport) throws(RuntimeAPIError) -> AnswerStatus {
        let path = "invocation/\(invocation.requestID)/error"
        let response = try post(report, to: path, headers: Self.headers(for: invocation))
        return try status(of: response, "POST \(path)")
    }

    func openStream(to invocation: InvocationAddress, contentType: String) -> CurlResponseStream {
        var headers = Self.headers(for: invocation, contentType: contentType)
        headers.add("Lambda-Runtime-Function-Response-Mode", "streaming")
        headers.add("Trailer", "\(ErrorReport.typeHeader), \(ErrorReport.bodyTrailer)")
        let request = HTTPRequest(method: "POST", url: "\(base)/invocation/\(invocation.requestID)/response",
                                  headers: headers, timeout: nil)
        return CurlResponseStream(client: self, request: request)
    }

    func reportInitError(_ report: ErrorReport) throws(RuntimeAPIError) {
        let response = try post(report, to: "init/error", headers: [:])
        guard response.isSuccess else { throw unexpected(response, "POST init/error") }
    }

    /// The answer's headers: the invocation id exactly when `next` sent one.
    static func headers(for invocation: InvocationAddress, contentType: String? = nil) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if let contentType { headers.add("Content-Type", contentType) }
        if let id = invocation.invocationID { headers.add(invocationIDHeader, id) }
        return headers
    }

    private func post(_ report: ErrorReport, to path: String, headers: HTTPHeaders) throws(RuntimeAPIError) -> HTTPResponse {
        var headers = headers
        headers.add("Content-Type", "application/json")
        headers.add(ErrorReport.typeHeader, report.errorType)
        return try send("POST", "\(base)/\(path)", headers: headers, body: report.json())
    }

    private func send(_ method: String, _ url: String, headers: HTTPHeaders = [:], body: Data = Data(), timeout: Duration? = .seconds(30)) throws(RuntimeAPIError) -> HTTPResponse {
        do {
            return try session.send(HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout))
        } catch {
            throw Self.unreachable(error)
        }
    }

    static func unreachable(_ error: HTTPTransportError) -> RuntimeAPIError {
        RuntimeAPIError(description: "the Runtime API is unreachable: \(error)")
    }

    /// 2xx accepted, 413 too large, another 4xx refused: the invocation's problem. 5xx: the Runtime API's.
    func status(of response: HTTPResponse, _ operation: String) throws(RuntimeAPIError) -> AnswerStatus {
        switch response.status {
        case 200..<300: return .accepted
        case 413: return .tooLarge(Self.text(response.body))
        case 400..<500: return .refused(status: response.status, detail: Self.text(response.body))
        default: throw unexpected(response, operation)
        }
    }

    private func unexpected(_ response: HTTPResponse, _ operation: String) -> RuntimeAPIError {
        RuntimeAPIError(description: "the Runtime API answered \(operation) with HTTP \(response.status): \(Self.text(response.body))")
    }

    private static func text(_ body: Data) -> String {
        String(decoding: body.prefix(512), as: UTF8.self)
    }
}
