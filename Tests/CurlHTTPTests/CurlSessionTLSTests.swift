@testable import CurlHTTP
import Foundation
import Testing

/// HTTPS as the bootstraps speak it to AWS: OpenSSL set up as CurlHTTP sets it up (without the
/// legacy name tables), against a server on 127.0.0.1 whose self-signed certificate is trusted
/// only through `SSL_CERT_FILE`.
@Suite("HTTPS through CurlSession")
struct CurlSessionTLSTests {
    @Test("a server trusted through SSL_CERT_FILE answers over TLS; the same server is refused, naming its certificate, by a client that does not trust it")
    func trustedAndUntrusted() throws {
        let server = try TLSServer.start()
        defer { server.stop() }
        let url = "https://127.0.0.1:\(server.port)/hello"

        let trusting = try CurlSession(environment: { $0 == "SSL_CERT_FILE" ? server.certificate : nil })
        let response = try trusting.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(10)))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "hello over TLS")

        // The system's bundle does not hold the test's certificate.
        let wary = try CurlSession(environment: { _ in nil })
        #expect {
            _ = try wary.send(HTTPRequest(method: "GET", url: url, timeout: .seconds(10)))
        } throws: { error in
            let message = "\(error)"
            return message.contains(url) && message.lowercased().contains("certificate")
        }
    }
}

/// `python3`'s HTTPS server on a free loopback port with a certificate made for 127.0.0.1 by `openssl`.
private struct TLSServer {
    let process: Process
    let port: Int
    let certificate: String
    let folder: URL

    static func start() throws -> TLSServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let certificate = folder.appendingPathComponent("cert.pem").path, key = folder.appendingPathComponent("key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw Failure("openssl req exited \(openssl.terminationStatus)") }

        // Each connection's handshake happens on its own thread, so a client that gives up on
        // the certificate holds nothing up; the server ends itself after 60 s whatever happens.
        let script = """
        import http.server, os, ssl, sys, threading
        class Hello(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"hello over TLS"
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain(sys.argv[1], sys.argv[2])
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Timer(60, os._exit, [0]).start()
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, certificate, key]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line is the port (the server ends itself within 60 s, so this read ends too).
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            line.append(first)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            kill(process.processIdentifier, SIGKILL)
            throw Failure("the TLS server printed no port")
        }
        return TLSServer(process: process, port: port, certificate: certificate, folder: folder)
    }

    func stop() {
        // SIGKILL: a child of the test runner may inherit a mask that blocks SIGTERM.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: folder)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
