import Foundation

/// A server certificate for 127.0.0.1 issued as AWS's are: by an intermediate CA under a root,
/// made by `openssl` in a folder of its own. Clients trust only `root`; the server presents
/// `chain` (its certificate, then the intermediate's), so a client verifies signatures it did not
/// get from its trust store, which a self-signed certificate would never make it do.
public struct TestCertificates: Sendable {
    public enum Key: String, Sendable, CaseIterable {
        /// As most AWS endpoints present.
        case rsa
        /// P-256, as some AWS endpoints present.
        case ecdsa
    }

    public let folder: URL
    /// The root CA's certificate (PEM): what a client is given as `SSL_CERT_FILE`.
    public var root: String { folder.appendingPathComponent("root.pem").path }
    /// The server's certificate followed by the intermediate's (PEM).
    public var chain: String { folder.appendingPathComponent("chain.pem").path }
    /// The server's private key (PEM).
    public var key: String { folder.appendingPathComponent("server.key").path }

    public static func make(key: Key = .rsa) throws -> TestCertificates {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-certificates-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        try "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n".write(toFile: file("ca.ext"), atomically: true, encoding: .utf8)
        try "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: file("server.ext"), atomically: true, encoding: .utf8)
        let newKey = key == .rsa ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("root.key"), "-out", file("root.pem"), "-days", "1", "-subj", "/CN=Sortie test root CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", file("intermediate.key"), "-out", file("intermediate.csr"), "-subj", "/CN=Sortie test intermediate CA"],
            ["x509", "-req", "-sha256", "-in", file("intermediate.csr"), "-CA", file("root.pem"), "-CAkey", file("root.key"), "-CAcreateserial",
             "-out", file("intermediate.pem"), "-days", "1", "-extfile", file("ca.ext")],
            ["req"] + newKey + ["-nodes", "-keyout", file("server.key"), "-out", file("server.csr"), "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-sha256", "-in", file("server.csr"), "-CA", file("intermediate.pem"), "-CAkey", file("intermediate.key"), "-CAcreateserial",
             "-out", file("server.pem"), "-days", "1", "-extfile", file("server.ext")],
        ]
        for arguments in steps {
            let made = try Command.run("/usr/bin/openssl", arguments, timeout: .seconds(60))
            guard made.status == 0 else { throw TLSFixtureError("openssl \(arguments.prefix(2).joined(separator: " ")) exited \(made.status): \(made.stderr)") }
        }
        let chain = try String(contentsOfFile: file("server.pem"), encoding: .utf8) + String(contentsOfFile: file("intermediate.pem"), encoding: .utf8)
        try chain.write(toFile: file("chain.pem"), atomically: true, encoding: .utf8)
        return TestCertificates(folder: folder)
    }

    public func remove() {
        try? FileManager.default.removeItem(at: folder)
    }
}

/// A test's TLS endpoint (a server, a terminator): its process and the certificates it presents,
/// which go together.
struct CertifiedProcess: Sendable {
    let process: Process
    let certificates: TestCertificates

    func stop() {
        // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        certificates.remove()
    }
}

/// Why a test's TLS endpoint or its certificates could not be made.
public struct TLSFixtureError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
