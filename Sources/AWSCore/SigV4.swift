import CurlHTTP
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How a service wants its path canonicalised.
public enum SigningStyle: Sendable, Equatable {
    /// Every service but S3: the path is normalised and encoded a second time.
    case standard
    /// S3: the path is signed as sent (encoded once, never normalised) and the payload hash
    /// travels in `x-amz-content-sha256`.
    case s3
}

/// AWS Signature Version 4, header form.
public struct SigV4Signer: Sendable {
    /// Every intermediate product, so tests can compare each step with the published vectors.
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var signedHeaders: String
        public var authorization: String
    }

    public static let algorithm = "AWS4-HMAC-SHA256"
    /// Headers that proxies and libcurl may change on the way: signing them would break the signature.
    static let unsignedHeaders: Set<String> = ["authorization", "user-agent", "expect", "x-amzn-trace-id", "content-length"]

    private let keys: SigningKeyCache

    public init() {
        keys = .shared
    }

    /// Signs `request` in place: adds `Host`, `X-Amz-Date`, the session token and (S3) the
    /// payload hash header, then `Authorization`. `payloadHash` defaults to the body's SHA-256.
    @discardableResult
    public func sign(
        _ request: inout HTTPRequest, credentials: AWSCredentials, region: String, service: String,
        style: SigningStyle = .standard, date: AMZDate, payloadHash: String? = nil
    ) -> Signature {
        let parts = URLParts(request.url)
        if request.headers["host"] == nil { request.headers.add("Host", parts.hostHeader) }
        request.headers.set("X-Amz-Date", date.timestamp)
        if let token = credentials.sessionToken { request.headers.set("X-Amz-Security-Token", token) }
        let hash = payloadHash ?? Hashing.hex(Hashing.sha256(request.body))
        if style == .s3 { request.headers.set("X-Amz-Content-Sha256", hash) }

        let result = signature(
            method: request.method, path: parts.path, query: parts.query, headers: request.headers,
            payloadHash: hash, style: style, credentials: credentials, region: region, service: service, date: date)
        request.headers.set("Authorization", result.authorization)
        return result
    }

    /// The signature of a request given as its parts; `path` and `query` as they appear in the URL.
    public func signature(
        method: String, path: Substring, query: Substring, headers: HTTPHeaders, payloadHash: String,
        style: SigningStyle, credentials: AWSCredentials, region: String, service: String, date: AMZDate
    ) -> Signature {
        let (canonical, signedHeaders) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: headers, payloadHash: payloadHash, style: style)
        let scope = "\(date.dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = "\(Self.algorithm)\n\(date.timestamp)\n\(scope)\n\(Hashing.hex(Hashing.sha256(canonical)))"
        let key = keys.key(secret: credentials.secretAccessKey, dateStamp: date.dateStamp, region: region, service: service)
        let signature = Hashing.hex(Hashing.hmacSHA256(key: key, stringToSign))
        let authorization = "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonical, stringToSign: stringToSign, signature: signature,
            signedHeaders: signedHeaders, authorization: authorization)
    }

    /// The canonical request and the signed-headers list.
    public static func canonicalRequest(
        method: String, path: Substring, query: Substring, headers: HTTPHeaders, payloadHash: String, style: SigningStyle
    ) -> (String, String) {
        let (headerBlock, signedHeaders) = canonicalHeaders(headers)
        var text = method
        text += "\n"
        text += canonicalURI(path, style: style)
        text += "\n"
        text += canonicalQuery(query)
        text += "\n"
        text += headerBlock
        text += "\n"
        text += signedHeaders
        text += "\n"
        text += payloadHash
        return (text, signedHeaders)
    }

    public static func canonicalURI(_ path: Substring, style: SigningStyle) -> String {
        if path.isEmpty { return "/" }
        switch style {
        case .s3: return String(path)
        case .standard: return URIEncoding.encode(URIEncoding.normalizePath(String(path)), keepSlash: true)
        }
    }

    /// Pairs decoded then re-encoded the AWS way, sorted by name and then value.
    public static func canonicalQuery(_ query: Substring) -> String {
        guard !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring, value: Substring
            if let equals = part.firstIndex(of: "=") {
                name = part[..<equals]
                value = part[part.index(after: equals)...]
            } else {
                name = part
                value = ""
            }
            pairs.append((URIEncoding.encode(URIEncoding.decode(name)), URIEncoding.encode(URIEncoding.decode(value))))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Lower-cased names in order, values trimmed with inner runs of spaces collapsed, repeats joined by commas.
    static func canonicalHeaders(_ headers: HTTPHeaders) -> (block: String, signed: String) {
        var entries: [(name: String, value: String)] = []
        entries.reserveCapacity(headers.fields.count)
        for field in headers.fields {
            let name = field.name.lowercased()
            if unsignedHeaders.contains(name) { continue }
            entries.append((name, collapseSpaces(field.value)))
        }
        entries.sort { $0.name < $1.name }  // stable: repeated names keep their order
        var block = ""
        var signed = ""
        var index = 0
        while index < entries.count {
            let name = entries[index].name
            var value = entries[index].value
            index += 1
            while index < entries.count, entries[index].name == name {
                value += ","
                value += entries[index].value
                index += 1
            }
            block += name
            block += ":"
            block += value
            block += "\n"
            if !signed.isEmpty { signed += ";" }
            signed += name
        }
        return (block, signed)
    }

    static func collapseSpaces(_ value: String) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return value }
        var previousSpace = false
        var clean = !isSpace(first) && !isSpace(last)
        if clean {
            for byte in utf8 {
                let space = isSpace(byte)
                if space && (previousSpace || byte == UInt8(ascii: "\t")) { clean = false; break }
                previousSpace = space
            }
        }
        if clean { return value }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var pendingSpace = false
        for byte in utf8 {
            if isSpace(byte) {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The split of a URL string that signing needs; parsing stays byte-level and allocation-light.
struct URLParts {
    var scheme: Substring
    var authority: Substring
    var path: Substring
    var query: Substring

    init(_ url: String) {
        let afterScheme: String.Index
        if let range = url.firstRange(of: "://") {
            scheme = url[..<range.lowerBound]
            afterScheme = range.upperBound
        } else {
            scheme = ""
            afterScheme = url.startIndex
        }
        let rest = url[afterScheme...]
        let pathStart = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        authority = rest[..<pathStart]
        let target = rest[pathStart...]
        if let question = target.firstIndex(of: "?") {
            path = target[..<question]
            query = target[target.index(after: question)...]
        } else {
            path = target
            query = ""
        }
    }

    /// The Host header libcurl would send: the authority without a default port.
    var hostHeader: String {
        if scheme == "https", authority.hasSuffix(":443") { return String(authority.dropLast(4)) }
        if scheme == "http", authority.hasSuffix(":80") { return String(authority.dropLast(3)) }
        return String(authority)
    }
}

/// Derived signing keys, one per (secret, day, region, service) as the SDKs keep them:
/// four HMACs saved on every request.
final class SigningKeyCache: Sendable {
    static let shared = SigningKeyCache()
    private let keys = Mutex<[String: [UInt8]]>([:])

    func key(secret: String, dateStamp: Substring, region: String, service: String) -> [UInt8] {
        let id = "\(dateStamp)\u{0}\(region)\u{0}\(service)\u{0}\(secret)"
        if let key = keys.withLock({ $0[id] }) { return key }
        let dateKey = Hashing.hmacSHA256(key: Array("AWS4\(secret)".utf8), String(dateStamp))
        let regionKey = Hashing.hmacSHA256(key: dateKey, region)
        let serviceKey = Hashing.hmacSHA256(key: regionKey, service)
        let key = Hashing.hmacSHA256(key: serviceKey, "aws4_request")
        keys.withLock {
            if $0.count >= 64 { $0.removeAll() }  // rotated credentials and past days; a bound, not an LRU
            $0[id] = key
        }
        return key
    }
}
