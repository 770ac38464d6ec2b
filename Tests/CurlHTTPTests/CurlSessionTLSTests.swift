@testable import CurlHTTP
import Foundation
import SortieTestSupport
import Testing

/// HTTPS as the bootstraps speak it to AWS: OpenSSL set up as CurlHTTP sets it up (without the
/// legacy name tables), against a server on 127.0.0.1 whose self-signed certificate is trusted
/// only through `SSL_CERT_FILE`.
@Suite("HTTPS through CurlSession")
struct CurlSessionTLSTests {
    @Test("a server trusted through SSL_CERT_FILE answers over TLS; the same server is refused, naming its certificate, by a client that does not trust it")
    func trustedAndUntrusted() throws {
        let server = try TLSServer.start(answer: .init(body: "hello over TLS"))
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
