import Foundation
import LocalAWS
import Testing

@Suite("moto on loopback")
struct MotoServerTests {
    @Test("moto starts on a free loopback port, answers there, and is gone once stopped")
    func motoStartsAndStops() async throws {
        let server = try await blocking { try MotoServer.start() }
        #expect(server.endpoint == "http://127.0.0.1:\(server.port)")
        #expect(server.environment["AWS_ENDPOINT_URL"] == server.endpoint)
        let answer = try await blocking { try LoopbackHTTP.request(port: server.port, method: "GET", path: "/moto-api/data.json") }
        #expect(answer.status == 200)
        #expect((try? JSONSerialization.jsonObject(with: answer.body)) is [String: Any])
        server.stop()
        let deadline = ContinuousClock.now + .seconds(15)
        while try LoopbackHTTP.connects(port: server.port), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try !LoopbackHTTP.connects(port: server.port), "moto still listens on \(server.port) after stop()")
    }
}
