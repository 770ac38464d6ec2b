import Foundation
import LocalRuntime
import Testing

@Suite("The invoke loop, driven through the echo function")
struct EchoLoopTests {
    @Test("echoes payloads byte for byte, including non-UTF-8 bytes and 5 MB")
    func byteExactEcho() async throws {
        var generator = SystemRandomNumberGenerator()
        let binary = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let unicode = Data("{\"name\":\"Zoë 🚀 — ünïcödé\",\"quote\":\"\\\"\"}".utf8)
        let large = Data((0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try await withFunction("echo") { function in
            for payload in [unicode, binary, large, Data()] {
                let body = try await function.invoke(payload).responseBody()
                #expect(body == payload, "echo of \(payload.count) bytes differed")
            }
        }
    }

    @Test("a function's proxy settings (for its outbound calls) never route the Runtime API: with http_proxy and ALL_PROXY at a port nothing listens on, the loop still serves")
    func proxiesBypassed() async throws {
        let closed = ["http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9", "all_proxy": "http://127.0.0.1:9"]
        try await withFunction("echo", environment: closed) { function in
            for index in 0..<3 {
                let body = try await function.invoke(json: "{\"n\":\(index)}").responseBody()
                #expect(body == Data("{\"n\":\(index)}".utf8))
            }
        }
    }

    @Test("three invocations in a row get distinct request ids")
    func distinctRequestIDs() async throws {
        let ids = try await withFunction("echo") { function in
            var ids: [String] = []
            for index in 0..<3 {
                let outcome = await function.invoke(json: "{\"n\":\(index)}")
                #expect(try outcome.responseBody() == Data("{\"n\":\(index)}".utf8))
                ids.append(try #require(outcome.requestID))
            }
            return ids
        }
        #expect(Set(ids).count == 3)
    }

    @Test("a handler error is reported on /error and the loop goes on")
    func handlerErrorThenContinue() async throws {
        try await withFunction("echo") { function in
            let failure = try await function.invoke(json: "{\"fail\": true}").functionError()
            #expect(failure.type == "EchoFailure")
            #expect(failure.report["errorType"] as? String == "EchoFailure")
            #expect(failure.report["errorMessage"] as? String == "echo was asked to fail")
            #expect(failure.report["stackTrace"] is [Any])
            #expect(try await function.invoke(json: "{\"after\":1}").responseBody() == Data("{\"after\":1}".utf8))
            #expect(function.exitStatusIfEnded == nil)
        }
    }

    @Test("a 7 MB response is refused by the Runtime API, reported as an error, and the loop goes on")
    func oversizeResponse() async throws {
        try await withFunction("echo") { function in
            let failure = try await function.invoke(json: "{\"big\": \(7 * 1024 * 1024)}").functionError()
            #expect(failure.type == "Function.ResponseSizeTooLarge")
            let message = try #require(failure.report["errorMessage"] as? String)
            #expect(message.contains("7340032 bytes"))
            // Exactly at the limit is still accepted.
            let body = try await function.invoke(json: "{\"big\": 6291556}").responseBody()
            #expect(body.count == 6_291_556)
            #expect(try await function.invoke(json: "{\"big\": 3}").responseBody() == Data("xxx".utf8))
        }
    }
}
