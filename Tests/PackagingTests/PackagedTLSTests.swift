import Foundation
import SortieTestSupport
import Testing

/// HTTPS as the shipped bootstraps speak it: they link scripts/static-openssl.sh's minimal
/// OpenSSL, not the system's, so TLS is checked on the packaged bytes. The chunk processor's Batch
/// mode reads its feeds document from S3 before anything else, here from a loopback server that
/// answers as S3 does for a missing key, over TLS 1.2 and 1.3 with the RSA and ECDSA certificates
/// AWS endpoints present.
@Suite("HTTPS from a packaged bootstrap")
struct PackagedTLSTests {
    static let cases: [(TestCertificates.Key, TLSServer.Version)] = TestCertificates.Key.allCases.flatMap { key in TLSServer.Version.allCases.map { (key, $0) } }

    @Test("a trusted server's answer arrives over the TLS version it offers; an untrusted one is refused, naming its certificate",
          .enabled(if: ChunkProcessorZip.testable, ChunkProcessorZip.skipped),
          arguments: cases)
    func packagedHTTPS(key: TestCertificates.Key, version: TLSServer.Version) async throws {
        let folder = try ChunkProcessorZip.folder("sortie-packaged-tls")
        defer { try? FileManager.default.removeItem(at: folder) }
        let bootstrap = try await ChunkProcessorZip.unzippedBootstrap(in: folder).path

        let missing = #"<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>answered over {tls}</Message></Error>"#
        let server = try await blocking {
            try TLSServer.start(key: key, maximumVersion: version, answer: .init(status: 404, contentType: "application/xml", body: missing))
        }
        defer { server.stop() }
        let environment = [
            "PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": server.url, "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "SORTIE_FEEDS_URI": "s3://sortie-feeds/feeds.json", "SORTIE_TABLE": "sortie-jobs",
        ]
        let arguments = ["batch", "--fileId", "f1", "--bucket", "landing", "--key", "in/a.csv", "--eTag", "e1", "--feed", "orders",
                         "--table", "sortie-jobs", "--chunkId", "f1-c00000"]
        let wantVersion = version == .tls13 ? "TLSv1.3" : "TLSv1.2"

        let trusting = try await blocking {
            try Command.run(bootstrap, arguments, environment: environment.merging(["SSL_CERT_FILE": server.certificate]) { $1 }, timeout: .seconds(60))
        }
        #expect(trusting.status == 1, "a feeds document that cannot be read is retryable: \(trusting.status) \(trusting.stderr)")
        #expect(trusting.stderr.contains("NoSuchKey (HTTP 404): answered over \(wantVersion)"), "\(trusting.stderr)")

        let wary = try await blocking { try Command.run(bootstrap, arguments, environment: environment, timeout: .seconds(60)) }
        #expect(wary.status == 1)
        #expect(wary.stderr.contains("\(server.url)/sortie-feeds/feeds.json") && wary.stderr.contains("SSL certificate problem"), "\(wary.stderr)")
    }
}
