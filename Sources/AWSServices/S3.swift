import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// S3 over REST-XML: reading whole objects or byte ranges, checking them, writing them.
public struct S3: Sendable {
    let rest: RestXMLProtocolClient

    public init(client: AWSClient) {
        rest = RestXMLProtocolClient(client: client, service: .s3)
    }

    /// An HTTP byte range, both ends inclusive.
    public enum ByteRange: Sendable, Equatable {
        /// `bytes=first-last`.
        case bytes(ClosedRange<Int64>)
        /// `bytes=first-`: from an offset to the end.
        case from(Int64)
        /// `bytes=-count`: the last `count` bytes.
        case suffix(Int64)

        public var headerValue: String {
            switch self {
            case .bytes(let range): "bytes=\(range.lowerBound)-\(range.upperBound)"
            case .from(let first): "bytes=\(first)-"
            case .suffix(let count): "bytes=-\(count)"
            }
        }
    }

    /// What S3 says about an object, from the response headers.
    public struct ObjectMetadata: Sendable {
        public var contentLength: Int64?
        public var contentType: String?
        public var eTag: String?
        public var lastModified: String?
        public var versionId: String?
        /// `x-amz-meta-*`, names without the prefix and in lower case.
        public var metadata: [String: String]

        init(_ headers: HTTPHeaders) {
            contentLength = headers["Content-Length"].flatMap { Int64($0) }
            contentType = headers["Content-Type"]
            eTag = headers["ETag"]
            lastModified = headers["Last-Modified"]
            versionId = headers["x-amz-version-id"]
            var metadata: [String: String] = [:]
            for field in headers where field.name.lowercased().hasPrefix("x-amz-meta-") {
                metadata[String(field.name.lowercased().dropFirst("x-amz-meta-".count))] = field.value
            }
            self.metadata = metadata
        }
    }

    public struct GetObjectOutput: Sendable {
        public var body: Data
        public var metadata: ObjectMetadata
        /// `bytes 0-9/443` for a ranged read.
        public var contentRange: String?
        /// 206 for a ranged read, 200 otherwise.
        public var status: Int
    }

    public func getObject(bucket: String, key: String, range: ByteRange? = nil, ifMatch: String? = nil) throws(AWSError) -> GetObjectOutput {
        var headers = HTTPHeaders()
        if let range { headers.add("Range", range.headerValue) }
        if let ifMatch { headers.add("If-Match", ifMatch) }
        let response = try rest.send("GetObject", try request("GET", bucket: bucket, key: key, headers: headers))
        return GetObjectOutput(body: response.body, metadata: ObjectMetadata(response.headers), contentRange: response.headers["Content-Range"], status: response.status)
    }

    /// A missing object fails with code `NotFound` (a HEAD answer has no body to say more).
    public func headObject(bucket: String, key: String) throws(AWSError) -> ObjectMetadata {
        let response = try rest.send("HeadObject", try request("HEAD", bucket: bucket, key: key))
        return ObjectMetadata(response.headers)
    }

    public struct PutObjectOutput: Sendable {
        public var eTag: String?
        public var versionId: String?
    }

    /// `contentType` defaults to S3's `binary/octet-stream`. `ifNoneMatch: "*"` writes only when
    /// the key does not exist yet (`PreconditionFailed` otherwise).
    @discardableResult
    public func putObject(
        bucket: String, key: String, body: Data, contentType: String? = nil, metadata: [String: String] = [:], ifNoneMatch: String? = nil
    ) throws(AWSError) -> PutObjectOutput {
        var headers = HTTPHeaders()
        // S3's own default; left unset, libcurl would label the body as a form.
        headers.add("Content-Type", contentType ?? "binary/octet-stream")
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) { headers.add("x-amz-meta-\(name)", value) }
        if let ifNoneMatch { headers.add("If-None-Match", ifNoneMatch) }
        let response = try rest.send("PutObject", try request("PUT", bucket: bucket, key: key, headers: headers, body: body))
        return PutObjectOutput(eTag: response.headers["ETag"], versionId: response.headers["x-amz-version-id"])
    }

    /// Virtual-hosted addressing (`bucket.s3.region.amazonaws.com/key`) by default; path style
    /// (`endpoint/bucket/key`) when the endpoint is overridden or the name is no DNS label.
    /// The key is encoded once with its slashes kept: S3 signs the path as sent.
    func request(_ method: String, bucket: String, key: String, headers: HTTPHeaders = [:], body: Data = Data()) throws(AWSError) -> AWSRequest {
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw AWSError(kind: .configuration, service: "S3", operation: method, code: "InvalidBucketName", message: "bucket name '\(bucket)' is not valid")
        }
        let encodedKey = URIEncoding.encode(key, keepSlash: true)
        let endpoint = try rest.client.endpoint(for: .s3)
        if endpoint.isCustom || !Self.isVirtualHostable(bucket) {
            return AWSRequest(method: method, path: "/\(URIEncoding.encode(bucket))/\(encodedKey)", headers: headers, body: body)
        }
        return AWSRequest(method: method, path: "/\(encodedKey)", headers: headers, body: body, hostPrefix: "\(bucket).")
    }

    /// A bucket name that is one DNS label: lower-case letters, digits and dashes (dots would break TLS).
    static func isVirtualHostable(_ bucket: String) -> Bool {
        (3...63).contains(bucket.utf8.count) && bucket.utf8.first != UInt8(ascii: "-") && bucket.utf8.last != UInt8(ascii: "-")
            && bucket.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-")
            }
    }
}
