import CurlHTTP
import Foundation
import LoopbackHTTP
import SortieTestSupport
import Testing

/// `CurlSession` against servers on 127.0.0.1: what it sends and gets back, and how a failed
/// exchange is reported (every AWS error message and retry decision starts from these).
@Suite("libcurl requests")
struct CurlSessionTests {
    @Test("the method, path, headers and body arrive as sent, and the status, headers and body come back")
    func roundTrip() async throws {
        let server = try await FakeServer.start { request, _ in
            FakeServer.Answer(status: 201, headers: ["X-Answer": "yes"], body: Data("got \(request.body.count) bytes".utf8))
        }
        let url = server.endpoint + "/things/1?full=true"
        let response = try await blocking {
            try CurlSession().send(HTTPRequest(
                method: "PUT", url: url, headers: ["X-Request": "a b", "Content-Type": "application/json"], body: Data(#"{"n":1}"#.utf8),
                timeout: .seconds(10)))
        }
        await server.stop()
        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(request.method == "PUT" && request.path == "/things/1")
        #expect(request.headers["x-request"] == "a b" && request.headers["content-type"] == "application/json")
        #expect(request.body == Data(#"{"n":1}"#.utf8))
        #expect(response.status == 201 && response.isSuccess)
        #expect(response.headers["x-answer"] == "yes")
        #expect(String(decoding: response.body, as: UTF8.self) == "got 7 bytes")
    }

    @Test("header names match whatever their case, byte by byte: not a prefix, not a longer name, non-letters exactly")
    func headerNames() {
        var headers: HTTPHeaders = ["Lambda-Runtime-Aws-Request-Id": "r1", "X-Amz-Date": "d", "x-a_b": "1"]
        #expect(headers["lambda-runtime-aws-request-id"] == "r1" && headers["LAMBDA-RUNTIME-AWS-REQUEST-ID"] == "r1")
        #expect(headers["Lambda-Runtime-Aws-Request"] == nil && headers["Lambda-Runtime-Aws-Request-Ids"] == nil)
        #expect(headers["X-A_B"] == "1" && headers["x-a\u{7F}b"] == nil, "only A–Z fold: '_' (0x5F) is not DEL (0x7F) lower-cased")
        #expect(headers["x-amz-dATE"] == "d" && headers["x-amz-date "] == nil)
        headers.remove("X-AMZ-DATE")
        #expect(headers["x-amz-date"] == nil && headers.fields.count == 2)
    }

    @Test("an error status is an answer to read, not a transport error")
    func errorStatus() async throws {
        let server = try await FakeServer.start { _, _ in .json(503, #"{"message":"slow down"}"#) }
        let url = server.endpoint + "/busy"
        let response = try await blocking { try CurlSession().send(HTTPRequest(method: "GET", url: url, timeout: .seconds(10))) }
        await server.stop()
        #expect(response.status == 503 && !response.isSuccess)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"message":"slow down"}"#)
    }

    @Test("a server slower than the request's timeout is a timed-out error naming the request, raised at the timeout")
    func timeout() async throws {
        let server = try await LoopbackHTTPServer.start { _ in
            try? await Task.sleep(for: .seconds(3))
            return LoopbackResponse(status: 200)
        }
        let url = server.endpoint + "/slow"
        // Timed on the request's own thread: resuming this task can wait for a busy cooperative pool.
        let (result, elapsed) = try await blocking { () -> (Result<HTTPResponse, HTTPTransportError>, Duration) in
            let started = ContinuousClock.now
            let result = Result { () throws(HTTPTransportError) in
                try CurlSession().send(HTTPRequest(method: "GET", url: url, timeout: .milliseconds(300)))
            }
            return (result, ContinuousClock.now - started)
        }
        await server.stop()
        guard case .failure(let error) = result else {
            Issue.record("expected a timeout, got \(result)")
            return
        }
        #expect(error.kind == .timedOut)
        #expect(error.description.hasPrefix("GET \(url) failed"))
        // The server answers after 3 s: an ignored timeout would take at least that long.
        #expect(elapsed < .milliseconds(2500))
    }

    @Test("a port nothing listens on is a could-not-connect error naming the request")
    func refused() async throws {
        // A port that was just ours: nothing listens on it once the server has stopped.
        let server = try await LoopbackHTTPServer.start { _ in LoopbackResponse(status: 200) }
        let url = server.endpoint + "/gone"
        await server.stop()
        let error = await #expect(throws: HTTPTransportError.self) {
            try await blocking { try CurlSession().send(HTTPRequest(method: "POST", url: url, body: Data("x".utf8), timeout: .seconds(10))) }
        }
        #expect(error?.kind == .couldNotConnect)
        #expect(error?.description.hasPrefix("POST \(url) failed") == true)
    }
}
