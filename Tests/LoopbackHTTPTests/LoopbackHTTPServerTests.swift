import CurlHTTP
import Foundation
import LoopbackHTTP
import Synchronization
import Testing

@Suite("The loopback HTTP server")
struct LoopbackHTTPServerTests {
    @Test("it answers while every cooperative thread is blocked in synchronous work")
    func answersWhileTheCooperativePoolIsBlocked() async throws {
        let server = try await LoopbackHTTPServer.start { request in
            LoopbackResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("hello \(request.path)".utf8))
        }
        let flags = Flags()
        let width = ProcessInfo.processInfo.activeProcessorCount
        // Tasks that hold every cooperative thread until the request below is done (or 15 s pass).
        let blockers = (0..<width).map { _ in
            Task.detached {
                flags.blocked.add(1, ordering: .sequentiallyConsistent)
                let until = Date().addingTimeInterval(15)
                while !flags.released.load(ordering: .sequentiallyConsistent) && Date() < until { usleep(1_000) }
            }
        }
        let outcome = Mutex<Result<HTTPResponse, HTTPTransportError>?>(nil)
        let endpoint = server.endpoint
        let client = Thread {
            let until = Date().addingTimeInterval(5)
            while flags.blocked.load(ordering: .sequentiallyConsistent) < width && Date() < until { usleep(1_000) }
            let result = Result { () throws(HTTPTransportError) in
                try CurlSession().send(HTTPRequest(method: "GET", url: endpoint + "/ping", timeout: .seconds(5)))
            }
            outcome.withLock { $0 = result }
            flags.released.store(true, ordering: .sequentiallyConsistent)
        }
        client.start()
        for blocker in blockers { await blocker.value }
        await server.stop()

        #expect(flags.blocked.load(ordering: .sequentiallyConsistent) == width)
        let response = try #require(try outcome.withLock { $0 }?.get())
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello /ping")
    }

    @Test("stopping while clients keep connecting: every connection accepted meanwhile is closed, nothing traps, stop returns")
    func stopsUnderConnections() async throws {
        for _ in 0..<5 {
            let server = try await LoopbackHTTPServer.start { _ in LoopbackResponse(status: 204) }
            let port = UInt16(server.port)
            let counts = Connections()
            let client = Thread {
                // Raw connects, as many as the listener takes until it is closed (bounded at 2 s).
                let until = Date().addingTimeInterval(2)
                while !counts.stopped.load(ordering: .sequentiallyConsistent) && Date() < until {
                    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = port.bigEndian
                    address.sin_addr.s_addr = inet_addr("127.0.0.1")
                    let connected = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                    if connected == 0 { counts.made.add(1, ordering: .sequentiallyConsistent) }
                    close(socket)
                }
            }
            client.start()
            try await Task.sleep(for: .milliseconds(50))
            await server.stop()
            counts.stopped.store(true, ordering: .sequentiallyConsistent)
            #expect(counts.made.load(ordering: .sequentiallyConsistent) > 0, "no client got through before the stop")
        }
    }

    private final class Flags: Sendable {
        let released = Atomic(false)
        let blocked = Atomic(0)
    }

    /// How many connections the client made, and whether the server has stopped.
    private final class Connections: Sendable {
        let made = Atomic(0)
        let stopped = Atomic(false)
    }
}
