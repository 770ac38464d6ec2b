import Foundation
import LoopbackHTTP

/// TLS in front of a plain TCP service on 127.0.0.1, as Amazon MSK's TLS listeners are to a
/// client: Debian's `stunnel4` on a free port, presenting a `TestCertificates` chain for 127.0.0.1,
/// which clients trust only when given `authority` (`SSL_CERT_FILE`).
public struct TLSTerminator: Sendable {
    public let port: Int
    private let endpoint: CertifiedProcess

    /// The PEM file of the test root CA the terminator's certificate chains to.
    public var authority: String { endpoint.certificates.root }
    public var address: String { "127.0.0.1:\(port)" }

    /// Starts a terminator forwarding to `target` (a port on 127.0.0.1), on `port` or a free one.
    public static func start(forwardingTo target: Int, port: Int? = nil) throws -> TLSTerminator {
        let stunnel = "/usr/bin/stunnel4"
        guard FileManager.default.isExecutableFile(atPath: stunnel) else {
            throw TLSFixtureError("\(stunnel) is missing: scripts/setup.sh installs it (apt-get install stunnel4)")
        }
        let certificates = try TestCertificates.make()
        func file(_ name: String) -> String { certificates.folder.appendingPathComponent(name).path }
        let port = try port ?? LoopbackHTTP.freePort()
        try """
        foreground = yes
        pid =
        [service]
        accept = 127.0.0.1:\(port)
        connect = 127.0.0.1:\(target)
        cert = \(certificates.chain)
        key = \(certificates.key)
        """.write(toFile: file("stunnel.conf"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: stunnel)
        process.arguments = [file("stunnel.conf")]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: file("stunnel.log")).touched())
        try process.run()
        let terminator = TLSTerminator(port: port, endpoint: CertifiedProcess(process: process, certificates: certificates))
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if (try? LoopbackHTTP.connects(port: port)) == true { return terminator }
            usleep(20_000)
        }
        let log = (try? String(contentsOfFile: file("stunnel.log"), encoding: .utf8)) ?? ""
        terminator.stop()
        throw TLSFixtureError("stunnel did not listen on \(port) within 20 s: \(log.suffix(2000))")
    }

    public func stop() {
        endpoint.stop()
    }
}

private extension URL {
    /// The file, created empty when missing.
    func touched() -> URL {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        return self
    }
}
