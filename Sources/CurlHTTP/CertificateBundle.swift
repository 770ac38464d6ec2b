#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the trusted CA certificates live on the machine we run on: chosen at run time,
/// because a bootstrap built on Debian runs on Amazon Linux 2023.
enum CertificateBundle {
    static let knownFiles = [
        "/etc/pki/tls/certs/ca-bundle.crt",        // Amazon Linux, Fedora, RHEL
        "/etc/ssl/certs/ca-certificates.crt",      // Debian, Ubuntu, Alpine
        "/etc/ssl/cert.pem",                       // macOS, OpenBSD
    ]

    /// `SSL_CERT_FILE` when set, else the first bundle that exists; `nil` leaves libcurl's built-in default.
    static func file(environment: (String) -> String? = environmentValue) -> String? {
        if let explicit = environment("SSL_CERT_FILE"), !explicit.isEmpty { return explicit }
        return knownFiles.first { access($0, R_OK) == 0 }
    }

    static func directory(environment: (String) -> String? = environmentValue) -> String? {
        guard let dir = environment("SSL_CERT_DIR"), !dir.isEmpty else { return nil }
        return dir
    }

    static func environmentValue(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
