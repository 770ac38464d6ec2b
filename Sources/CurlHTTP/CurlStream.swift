import CCurl
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the stream failed: it is unusable afterwards.
public struct CurlStreamError: Error, Sendable, CustomStringConvertible {
    public var kind: HTTPTransportError.Kind
    public var message: String
    public var description: String { message }
}

/// A byte stream to `host:port`, in TLS or in the clear, over libcurl's CONNECT_ONLY: the same
/// TLS stack and CA bundle as every HTTPS call, for protocols that are not HTTP (Kafka).
///
/// Blocking, one thread at a time; every wait is bounded by the deadline given to the call.
public final class CurlStream {
    private let handle: UnsafeMutableRawPointer
    private let socket: curl_socket_t
    public let endpoint: String

    /// Connects (and with `tls`, completes the handshake, verifying the peer against the CA bundle).
    public init(host: String, port: Int, tls: Bool, timeoutMilliseconds: Int) throws(CurlStreamError) {
        _ = CurlSession.sharedGlobalInit
        endpoint = "\(host):\(port)"
        guard let handle = curl_easy_init() else { throw CurlStreamError(kind: .other, message: "curl_easy_init failed") }
        // The scheme only picks TLS or not: nothing is sent by libcurl after the connection.
        let url = "\(tls ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        url.withCString { _ = sortie_curl_setopt_pointer(handle, CURLOPT_URL, $0) }
        sortie_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        sortie_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        sortie_curl_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        sortie_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        sortie_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, max(timeoutMilliseconds, 1))
        if let file = CertificateBundle.file() { file.withCString { _ = sortie_curl_setopt_pointer(handle, CURLOPT_CAINFO, $0) } }
        if let dir = CertificateBundle.directory() { dir.withCString { _ = sortie_curl_setopt_pointer(handle, CURLOPT_CAPATH, $0) } }
        // curl_easy_strerror names only the kind of failure; the buffer says what it was (for TLS,
        // OpenSSL's verify result, e.g. "unable to get local issuer certificate").
        var detail = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let code = detail.withUnsafeMutableBufferPointer { buffer in
            _ = sortie_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            let code = curl_easy_perform(handle)
            _ = sortie_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil)
            return code
        }
        var socket = curl_socket_t(-1)
        guard code == CURLE_OK, sortie_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 else {
            curl_easy_cleanup(handle)
            let kind: HTTPTransportError.Kind = switch code {
            case CURLE_COULDNT_CONNECT: .couldNotConnect
            case CURLE_OPERATION_TIMEDOUT: .timedOut
            case CURLE_COULDNT_RESOLVE_HOST: .couldNotResolve
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: .tls
            default: .other
            }
            let reason = String(decoding: detail.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CurlStreamError(
                kind: kind, message: "connecting to \(endpoint)\(tls ? " (TLS)" : ""): \(reason.isEmpty ? String(cString: curl_easy_strerror(code)) : reason)")
        }
        self.handle = handle
        self.socket = socket
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    /// Writes all of `bytes` before `deadline` (a `WallClock.monotonicMilliseconds()` reading).
    public func write(_ bytes: UnsafeRawBufferPointer, deadline: Int64) throws(CurlStreamError) {
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            let code = curl_easy_send(handle, bytes.baseAddress.map { $0 + offset }, bytes.count - offset, &sent)
            if code == CURLE_AGAIN {
                try wait(for: Int16(POLLOUT), deadline: deadline)
                continue
            }
            guard code == CURLE_OK else { throw CurlStreamError(kind: .connectionLost, message: "sending to \(endpoint): \(String(cString: curl_easy_strerror(code)))") }
            offset += sent
        }
    }

    /// Fills `buffer` completely before `deadline`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: Int64) throws(CurlStreamError) {
        var offset = 0
        while offset < buffer.count {
            var received = 0
            // TLS may hold decrypted bytes already: ask libcurl before waiting on the socket.
            let code = curl_easy_recv(handle, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, &received)
            if code == CURLE_AGAIN {
                try wait(for: Int16(POLLIN), deadline: deadline)
                continue
            }
            guard code == CURLE_OK else { throw CurlStreamError(kind: .connectionLost, message: "receiving from \(endpoint): \(String(cString: curl_easy_strerror(code)))") }
            guard received > 0 else { throw CurlStreamError(kind: .connectionLost, message: "\(endpoint) closed the connection") }
            offset += received
        }
    }

    private func wait(for events: Int16, deadline: Int64) throws(CurlStreamError) {
        let left = deadline - WallClock.monotonicMilliseconds()
        guard left > 0 else { throw CurlStreamError(kind: .timedOut, message: "\(endpoint) did not answer in time") }
        var entry = pollfd(fd: socket, events: events, revents: 0)
        let ready = poll(&entry, 1, Int32(min(left, 60_000)))
        if ready < 0 && errno != EINTR { throw CurlStreamError(kind: .connectionLost, message: "poll on \(endpoint): errno \(errno)") }
    }
}
