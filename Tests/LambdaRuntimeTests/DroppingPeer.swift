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
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        socketFD = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound, listen(fd, 8) == 0 else { throw PeerError() }
        port = UInt16(bigEndian: address.sin_port)
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
