import AWSCore
import AWSServices
import Foundation

/// `sortie put`'s upload: one PutObject for a small file; a multipart upload for a big one, read
/// from the file one part at a time (memory stays at one part), its bytes sent shown as it goes.
struct FileUpload {
    var s3: S3
    /// Parts are this big, or bigger for a file that would need more than S3's 10,000 parts.
    var partSize = 8 * 1024 * 1024

    struct Uploaded {
        var eTag: String
        var size: Int
        /// 0 for a single PutObject.
        var parts: Int
    }

    func upload(_ path: String, bucket: String, key: String, progress: Progress) throws -> Uploaded {
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        let size = Int(try file.seekToEnd())
        try file.seek(toOffset: 0)
        let target = "s3://\(bucket)/\(key)"
        guard size > partSize else {
            progress.stage("uploading \(Progress.bytes(size)) to \(target)")
            let eTag = try s3.putObject(bucket: bucket, key: key, body: try file.readToEnd() ?? Data()).eTag ?? ""
            return Uploaded(eTag: eTag, size: size, parts: 0)
        }
        let part = max(partSize, (size + 9_999) / 10_000)
        let count = (size + part - 1) / part
        progress.stage("uploading \(Progress.bytes(size)) to \(target) in \(count) parts")
        let uploadID = try s3.createMultipartUpload(bucket: bucket, key: key)
        do {
            var parts: [S3.CompletedPart] = []
            var sent = 0
            while sent < size {
                let body = try file.read(upToCount: part) ?? Data()
                guard !body.isEmpty else { throw CommandFailure("\(path) shrank while it was uploaded (\(sent) of \(size) bytes read)") }
                parts.append(try s3.uploadPart(bucket: bucket, key: key, uploadId: uploadID, partNumber: parts.count + 1, body: body))
                sent += body.count
                progress.update("\(Progress.bytes(sent)) / \(Progress.bytes(size)) (\(sent * 100 / size)%)")
            }
            let eTag = try s3.completeMultipartUpload(bucket: bucket, key: key, uploadId: uploadID, parts: parts) ?? ""
            return Uploaded(eTag: eTag, size: size, parts: parts.count)
        } catch {
            // An unfinished upload's parts are stored (and billed) until aborted.
            try? s3.abortMultipartUpload(bucket: bucket, key: key, uploadId: uploadID)
            throw error
        }
    }
}
