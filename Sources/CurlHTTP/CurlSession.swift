import CCurl
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One libcurl easy handle, reused for every request so the connection stays alive.
///
/// libcurl's easy API blocks the calling thread; a session belongs to one thread at a time.
public final class CurlSession {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    /// curl_global_init is not thread-safe; a `static let` runs it exactly once.
    static let sharedGlobalInit: CURLcode = sortie_curl_global_init()

    public convenience init() throws(HTTPTransportError) {
        try self.init(environment: CertificateBundle.environmentValue)
    }

    /// `environment` says where the trusted certificates are (`SSL_CERT_FILE`, `SSL_CERT_DIR`):
    /// the process's own variables, or a test's.
    init(environment: (String) -> String?) throws(HTTPTransportError) {
        _ = Self.sharedGlobalInit
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError(kind: .other, curlCode: -1, message: "curl_easy_init failed", method: "", url: "")
        }
        self.handle = handle
        errorBuffer.initialize(to: 0)
        set(CURLOPT_ERRORBUFFER, pointer: UnsafeRawPointer(errorBuffer))
        set(CURLOPT_NOSIGNAL, 1)  // timeouts without SIGALRM: safe with several loops on threads
        set(CURLOPT_TCP_NODELAY, 1)
        set(CURLOPT_TCP_KEEPALIVE, 1)
        set(CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        set(CURLOPT_ACCEPT_ENCODING, pointer: nil)  // bodies arrive exactly as sent (S3 byte ranges)
        set(CURLOPT_PATH_AS_IS, 1)  // S3 keys may hold ./ and ../ segments; the path is signed as sent
        set(CURLOPT_WRITEFUNCTION, callback: receiveBody)
        set(CURLOPT_HEADERFUNCTION, callback: receiveHeader)
        if let file = CertificateBundle.file(environment: environment) { setString(CURLOPT_CAINFO, file) }
        if let dir = CertificateBundle.directory(environment: environment) { setString(CURLOPT_CAPATH, dir) }
    }

    /// A session that never goes through a proxy, whatever `http_proxy` or `ALL_PROXY` say (and
    /// without reading them on every request): for the Runtime API on loopback, which a
    /// function's proxy settings for its outbound calls must not reach.
    public static func direct() throws(HTTPTransportError) -> CurlSession {
        let session = try CurlSession()
        session.setString(CURLOPT_PROXY, "")
        return session
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    public func send(_ request: HTTPRequest) throws(HTTPTransportError) -> HTTPResponse {
        try perform(request, headers: request.headers) {
            request.body.withUnsafeBytes { body in
                configureMethod(request.method, body: body)
                return curl_easy_perform(handle)
            }
        }
    }

    /// Sends a POST whose body `source` supplies while it goes out (`Transfer-Encoding: chunked`),
    /// then the trailers it names. libcurl asks for bytes only when it has room for them, so a
    /// source that blocks until it has some holds the sender to the pace of the connection.
    /// `request.body` is ignored.
    public func send(_ request: HTTPRequest, streaming source: any StreamingRequestBody) throws(HTTPTransportError) -> HTTPResponse {
        var headers = request.headers
        headers.set("Transfer-Encoding", "chunked")
        let sourceBox = StreamingSourceBox(source)
        let sourcePointer = Unmanaged.passUnretained(sourceBox).toOpaque()
        defer {
            set(CURLOPT_READDATA, pointer: nil)
            set(CURLOPT_TRAILERDATA, pointer: nil)
            set(CURLOPT_TRAILERFUNCTION, pointer: nil)
        }
        return try perform(request, headers: headers) {
            withExtendedLifetime(sourceBox) {
                set(CURLOPT_NOBODY, 0)
                set(CURLOPT_POST, 1)
                set(CURLOPT_CUSTOMREQUEST, pointer: nil)
                set(CURLOPT_POSTFIELDS, pointer: nil)
                sortie_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, -1)
                set(CURLOPT_READFUNCTION, callback: readStreamingBody)
                set(CURLOPT_READDATA, pointer: UnsafeRawPointer(sourcePointer))
                // The shim's setters are typed for data callbacks; a trailer callback is passed as the pointer it is.
                set(CURLOPT_TRAILERFUNCTION, pointer: unsafeBitCast(streamingTrailers as TrailerCallback, to: UnsafeRawPointer.self))
                set(CURLOPT_TRAILERDATA, pointer: UnsafeRawPointer(sourcePointer))
                return curl_easy_perform(handle)
            }
        }
    }

    private func perform(_ request: HTTPRequest, headers: HTTPHeaders, _ run: () -> CURLcode) throws(HTTPTransportError) -> HTTPResponse {
        let sink = ResponseSink()
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for field in headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        // libcurl adds "Expect: 100-continue" to large bodies and then waits a second for the
        // peer's 100; the Runtime API and AWS never need it.
        headerList = curl_slist_append(headerList, "Expect:")
        // Nor may it label a body as a form: a request goes out with the headers it was given.
        if headers["Content-Type"] == nil {
            headerList = curl_slist_append(headerList, "Content-Type:")
        }

        setString(CURLOPT_URL, request.url)
        set(CURLOPT_HTTPHEADER, pointer: UnsafeRawPointer(headerList))
        set(CURLOPT_WRITEDATA, pointer: UnsafeRawPointer(sinkPointer))
        set(CURLOPT_HEADERDATA, pointer: UnsafeRawPointer(sinkPointer))
        set(CURLOPT_TIMEOUT_MS, request.timeout.map { Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) } ?? 0)
        errorBuffer[0] = 0

        let code: CURLcode = withExtendedLifetime(sink) { run() }
        // The body pointer above is only valid during perform; never leave it behind.
        set(CURLOPT_POSTFIELDS, pointer: nil)

        guard code == CURLE_OK else {
            throw transportError(code, request)
        }
        var status = 0
        _ = sortie_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    private func configureMethod(_ method: String, body: UnsafeRawBufferPointer) {
        set(CURLOPT_NOBODY, method == "HEAD" ? 1 : 0)
        switch method {
        case "GET" where body.isEmpty:
            set(CURLOPT_HTTPGET, 1)
            set(CURLOPT_CUSTOMREQUEST, pointer: nil)
        case "HEAD":
            set(CURLOPT_CUSTOMREQUEST, pointer: nil)
        default:
            set(CURLOPT_POST, 1)
            // An empty body still needs a valid pointer, or libcurl reads from stdin.
            set(CURLOPT_POSTFIELDS, pointer: body.baseAddress ?? UnsafeRawPointer(errorBuffer))
            sortie_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            if method == "POST" {
                set(CURLOPT_CUSTOMREQUEST, pointer: nil)
            } else {
                setString(CURLOPT_CUSTOMREQUEST, method)
            }
        }
    }

    private func transportError(_ code: CURLcode, _ request: HTTPRequest) -> HTTPTransportError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let kind: HTTPTransportError.Kind = switch code {
        case CURLE_COULDNT_CONNECT: .couldNotConnect
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .couldNotResolve
        case CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_PARTIAL_FILE: .connectionLost
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE: .tls
        default: .other
        }
        return HTTPTransportError(kind: kind, curlCode: Int(code.rawValue), message: message, method: request.method, url: request.url)
    }

    private func set(_ option: CURLoption, _ value: Int) {
        sortie_curl_setopt_long(handle, option, value)
    }

    private func set(_ option: CURLoption, pointer: UnsafeRawPointer?) {
        sortie_curl_setopt_pointer(handle, option, pointer)
    }

    private func set(_ option: CURLoption, callback: sortie_curl_data_callback) {
        sortie_curl_setopt_callback(handle, option, callback)
    }

    /// libcurl copies string options, so a temporary C string is enough.
    private func setString(_ option: CURLoption, _ value: String) {
        value.withCString { _ = sortie_curl_setopt_pointer(handle, option, $0) }
    }
}

/// A request body produced while it is sent; `CurlSession.send(_:streaming:)` reads it on its own thread.
public protocol StreamingRequestBody: AnyObject {
    /// Fills the front of `buffer` and returns how many bytes it wrote, blocking until there are
    /// some; 0 ends the body.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int
    /// The trailer fields to send after the last byte, asked once the body has ended.
    func trailers() -> HTTPHeaders
}

/// An existential behind one stable class pointer, for libcurl's `void *` callback data.
private final class StreamingSourceBox {
    let source: any StreamingRequestBody
    init(_ source: any StreamingRequestBody) { self.source = source }
}

private typealias TrailerCallback = @convention(c) (UnsafeMutablePointer<UnsafeMutablePointer<curl_slist>?>?, UnsafeMutableRawPointer?) -> Int32

private func readStreamingBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return Int(CURL_READFUNC_ABORT) }
    let box = Unmanaged<StreamingSourceBox>.fromOpaque(context).takeUnretainedValue()
    return box.source.read(into: UnsafeMutableRawBufferPointer(start: data, count: size * count))
}

private func streamingTrailers(_ list: UnsafeMutablePointer<UnsafeMutablePointer<curl_slist>?>?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let list, let context else { return Int32(CURL_TRAILERFUNC_ABORT) }
    let box = Unmanaged<StreamingSourceBox>.fromOpaque(context).takeUnretainedValue()
    for field in box.source.trailers() {
        list.pointee = curl_slist_append(list.pointee, "\(field.name): \(field.value)")
    }
    return Int32(CURL_TRAILERFUNC_OK)
}

/// Collects one response; libcurl calls back into it through an unretained pointer.
private final class ResponseSink {
    var body = Data()
    var headers = HTTPHeaders()
}

private func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    sink.body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
    return size * count
}

private func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    // Bytes, not Characters: a header line is ASCII up to its value, and this runs for every line.
    let line = UnsafeRawBufferPointer(start: data, count: size * count)
    if line.starts(with: "HTTP/".utf8) {
        sink.headers = HTTPHeaders()  // a new status line (100 Continue, redirect) starts a new header block
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        sink.headers.add(trimmed(line[..<colon]), trimmed(line[(colon + 1)...]))
    }
    return size * count
}

/// Trims spaces, tabs and the CR LF ending.
private func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
    let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
    return String(decoding: bytes[first...last], as: UTF8.self)
}
