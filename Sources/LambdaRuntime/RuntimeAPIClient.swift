import CurlHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One invocation as `next` hands it over.
struct Invocation {
    var payload: Data
    var headers: HTTPHeaders
}

/// The Runtime API failed in a way the process cannot recover from.
struct RuntimeAPIError: Error, CustomStringConvertible {
    var description: String
}

/// The HTTP side of the Runtime API contract (version 2018-06-01), over one keep-alive connection.
struct RuntimeAPIClient {
    enum ResponseOutcome: Equatable {
        case accepted
        /// The Runtime API refused the body as too large (413); the invocation is still open.
        case tooLarge(String)
    }

    private let session: CurlSession
    private let base: String

    init(endpoint: String) throws(RuntimeAPIError) {
        do {
            session = try CurlSession()
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

    func respond(to requestID: String, with body: Data) throws(RuntimeAPIError) -> ResponseOutcome {
        let response = try send("POST", "\(base)/invocation/\(requestID)/response", body: body)
        switch response.status {
        case 202: return .accepted
        case 413: return .tooLarge(String(decoding: response.body, as: UTF8.self))
        default: throw unexpected(response, "POST invocation/\(requestID)/response")
        }
    }

    func reportError(for requestID: String, _ report: ErrorReport) throws(RuntimeAPIError) {
        try post(report, to: "invocation/\(requestID)/error")
    }

    func reportInitError(_ report: ErrorReport) throws(RuntimeAPIError) {
        try post(report, to: "init/error")
    }

    private func post(_ report: ErrorReport, to path: String) throws(RuntimeAPIError) {
        let headers: HTTPHeaders = [
            "Content-Type": "application/json",
            "Lambda-Runtime-Function-Error-Type": report.errorType,
        ]
        let response = try send("POST", "\(base)/\(path)", headers: headers, body: report.json())
        guard response.status == 202 else {
            throw unexpected(response, "POST \(path)")
        }
    }

    private func send(_ method: String, _ url: String, headers: HTTPHeaders = [:], body: Data = Data(), timeout: Duration? = .seconds(30)) throws(RuntimeAPIError) -> HTTPResponse {
        do {
            return try session.send(HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: timeout))
        } catch {
            throw RuntimeAPIError(description: "the Runtime API is unreachable: \(error)")
        }
    }

    private func unexpected(_ response: HTTPResponse, _ operation: String) -> RuntimeAPIError {
        let body = String(decoding: response.body.prefix(512), as: UTF8.self)
        return RuntimeAPIError(description: "the Runtime API answered \(operation) with HTTP \(response.status): \(body)")
    }
}
