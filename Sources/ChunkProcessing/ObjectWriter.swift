import AWSCore
import AWSServices
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes one S3 object while holding at most one part: a single PutObject when everything fits
/// in one part, a multipart upload otherwise. Nothing is visible under the key until `finish`.
struct ObjectWriter {
    let s3: S3
    let bucket: String
    let key: String
    /// At least 5 MiB, S3's smallest part but the last.
    let partSize: Int
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var parts: [S3.CompletedPart] = []

    init(s3: S3, bucket: String, key: String, partSize: Int) {
        self.s3 = s3
        self.bucket = bucket
        self.key = key
        self.partSize = max(partSize, 5 << 20)
    }

    /// Appends one line (the newline is added here).
    mutating func appendLine(_ bytes: UnsafeBufferPointer<UInt8>) throws(AWSError) {
        buffer.append(contentsOf: bytes)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= partSize { try uploadPart() }
    }

    private mutating func uploadPart() throws(AWSError) {
        if uploadID == nil {
            uploadID = try s3.createMultipartUpload(bucket: bucket, key: key, contentType: "application/x-ndjson")
        }
        guard let uploadID else { return }
        parts.append(try s3.uploadPart(bucket: bucket, key: key, uploadId: uploadID, partNumber: parts.count + 1, body: Data(buffer)))
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finish() throws(AWSError) {
        guard let uploadID else {
            try s3.putObject(bucket: bucket, key: key, body: Data(buffer), contentType: "application/x-ndjson")
            return
        }
        if !buffer.isEmpty { try uploadPart() }
        try s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadID, parts: parts)
    }

    /// Drops an unfinished upload, so its parts are not kept (and billed) by S3.
    func abandon() {
        guard let uploadID else { return }
        try? s3.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadID)
    }
}
