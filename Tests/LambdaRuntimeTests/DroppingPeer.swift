import Foundation
import SortieTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A loopback port that either accepts connections and closes them at once, or (closed again
/// right after binding) refuses them: a Runtime API that has gone away.
final class DroppingPeer: @unchecked Sendable {
    let port: UInt16
    private let socketFD: Int32

    init(accepts: Bool) throws {
        let (fd, port) = try LoopbackHTTP.boundSocket()
        socketFD = fd
        self.port = UInt16(port)
        guard listen(fd, 8) == 0 else { throw PeerError() }
        if accepts {
            // Bounded: the peer serves a handful of connections, then stops.
            Thread.detachNewThread {
                for _ in 0..<8 {
                    let client = accept(fd, nil, nil)
                    if client < 0 { return }
                    close(client)
                }
            }
        } else {
            close(fd)
        }
    }

    deinit { close(socketFD) }

    struct PeerError: Error {}
}

/// Runs the probe directly (no emulator) against a given Runtime API address, bounded in time.
struct ProbeRun {
    let status: Int32
    let log: String

    init(runtimeAPI: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("RuntimeProbe"))
        process.environment = ["AWS_LAMBDA_RUNTIME_API": runtimeAPI]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.interrupt(); kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        status = process.terminationStatus
        log = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
