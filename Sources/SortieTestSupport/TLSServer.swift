import Foundation

/// An HTTPS server on a free loopback port: `python3`'s, presenting a `TestCertificates` chain
/// for 127.0.0.1, trusted by no one unless a client is given `certificate` (its root CA, as
/// `SSL_CERT_FILE`). It answers every request with one canned answer, in which `{tls}` stands for
/// the TLS version the connection negotiated, so a test sees the protocol its client actually spoke.
public struct TLSServer: Sendable {
    public enum Version: String, Sendable, CaseIterable {
        case tls12 = "TLSv1_2"
        case tls13 = "TLSv1_3"
    }

    public struct Answer: Sendable {
        public var status: Int
        public var contentType: String
        public var body: String

        public init(status: Int = 200, contentType: String = "text/plain", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public let port: Int
    private let endpoint: CertifiedProcess

    /// The root CA's certificate (PEM), for a client to trust.
    public var certificate: String { endpoint.certificates.root }
    public var url: String { "https://127.0.0.1:\(port)" }

    public static func start(key: TestCertificates.Key = .rsa, maximumVersion: Version = .tls13, answer: Answer) throws -> TLSServer {
        let certificates = try TestCertificates.make(key: key)
        // Each connection's handshake happens on its own thread, so a client that gives up on
        // the certificate holds nothing up; the server ends itself after 60 s whatever happens.
        let script = """
        import http.server, os, ssl, sys, threading
        status, content_type, body = int(sys.argv[3]), sys.argv[4], sys.argv[5]
        class Answer(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                data = body.replace("{tls}", self.request.version()).encode()
                self.send_response(status); self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
            do_GET = do_POST = do_PUT = do_DELETE = answer
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); context.load_cert_chain(sys.argv[1], sys.argv[2])
        context.maximum_version = ssl.TLSVersion[sys.argv[6]]
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        threading.Timer(60, os._exit, [0]).start()
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, certificates.chain, certificates.key, String(answer.status), answer.contentType, answer.body, maximumVersion.rawValue]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let endpoint = CertifiedProcess(process: process, certificates: certificates)
        // The first line is the port (the server ends itself within 60 s, so this read ends too).
        var line = Data()
        while let byte = try output.fileHandleForReading.read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            line.append(first)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            endpoint.stop()
            throw TLSFixtureError("the TLS server printed no port")
        }
        return TLSServer(port: port, endpoint: endpoint)
    }

    public func stop() {
        endpoint.stop()
    }
}
