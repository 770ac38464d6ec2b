import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A local file could not be read for an upload.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Putting a local file of any size in S3 while holding one part of it in memory: one PutObject
/// up to `partSize`, a multipart upload above it (each part one request, so no request's time
/// grows with the file). An upload that fails part-way is aborted, so S3 keeps no parts.
extension S3 {
    public struct FileUpload: Sendable {
        public var eTag: String
        public var size: Int
        /// 0 for a single PutObject.
        public var parts: Int
    }

    /// 8 MiB: the AWS CLI's threshold and part size; parts grow when a file needs more than S3's 10,000.
    public static let defaultPartSize = 8 << 20

    /// `progress` is called with the bytes sent so far and the file's size after every request.
    public func putFile(
        _ path: String, bucket: String, key: String, contentType: String? = nil, partSize: Int = S3.defaultPartSize,
        progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> FileUpload {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw FileReadError("cannot stat \(path): \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        let part = max(partSize, 5 << 20, (size + 9_999) / 10_000)

        /// The next `count` bytes, or fewer at the end of the file, read straight into the body
        /// (one part in memory at a time, not a buffer and its copy).
        func next(_ count: Int) throws -> Data {
            var body = Data(count: count)
            var filled = 0
            while filled < count {
                let got = body.withUnsafeMutableBytes { bytes in bytes.baseAddress.map { read(descriptor, $0 + filled, count - filled) } ?? 0 }
                if got < 0, errno == EINTR { continue }
                guard got >= 0 else { throw FileReadError("cannot read \(path): \(String(cString: strerror(errno)))") }
                if got == 0 { break }
                filled += got
            }
            if filled < count { body.count = filled }
            return body
        }

        guard size > partSize else {
            let body = try next(size)
            let eTag = try putObject(bucket: bucket, key: key, body: body, contentType: contentType).eTag ?? ""
            progress(body.count, size)
            return FileUpload(eTag: eTag, size: body.count, parts: 0)
        }
        let uploadId = try createMultipartUpload(bucket: bucket, key: key, contentType: contentType)
        do {
            var parts: [CompletedPart] = []
            var sent = 0
            while sent < size {
                let body = try next(min(part, size - sent))
                guard !body.isEmpty else { throw FileReadError("\(path) shrank while it was uploaded (\(sent) of \(size) bytes read)") }
                parts.append(try uploadPart(bucket: bucket, key: key, uploadId: uploadId, partNumber: parts.count + 1, body: body))
                sent += body.count
                progress(sent, size)
            }
            let eTag = try completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadId, parts: parts) ?? ""
            return FileUpload(eTag: eTag, size: size, parts: parts.count)
        } catch {
            try? abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadId)
            throw error
        }
    }
}
