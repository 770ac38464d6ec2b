import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Multipart uploads: writing an object of any size while holding one part in memory.
/// Every part but the last must be at least 5 MiB.
extension S3 {
    public struct CompletedPart: Sendable, Equatable {
        public var partNumber: Int
        public var eTag: String
        public init(partNumber: Int, eTag: String) {
            self.partNumber = partNumber
            self.eTag = eTag
        }
    }

    /// Returns the upload id.
    public func createMultipartUpload(bucket: String, key: String, contentType: String? = nil) throws(AWSError) -> String {
        var request = try request("POST", bucket: bucket, key: key, headers: ["Content-Type": contentType ?? "binary/octet-stream"])
        request.query = [("uploads", "")]
        let root = try rest.call("CreateMultipartUpload", request)
        guard let uploadId = root.string("UploadId"), !uploadId.isEmpty else {
            throw AWSError(kind: .invalidResponse, service: "S3", operation: "CreateMultipartUpload", status: 200, code: "InvalidResponse", message: "no UploadId in the answer")
        }
        return uploadId
    }

    /// Returns the part's ETag, for `completeMultipartUpload`.
    public func uploadPart(bucket: String, key: String, uploadId: String, partNumber: Int, body: Data) throws(AWSError) -> CompletedPart {
        var request = try request("PUT", bucket: bucket, key: key, headers: ["Content-Type": "binary/octet-stream"], body: body)
        request.query = [("partNumber", String(partNumber)), ("uploadId", uploadId)]
        let response = try rest.send("UploadPart", request)
        guard let eTag = response.headers["ETag"] else {
            throw AWSError(kind: .invalidResponse, service: "S3", operation: "UploadPart", status: response.status, code: "InvalidResponse", message: "no ETag for part \(partNumber)")
        }
        return CompletedPart(partNumber: partNumber, eTag: eTag)
    }

    /// S3 may answer 200 and still fail (the error is then the body): both are errors here.
    @discardableResult
    public func completeMultipartUpload(bucket: String, key: String, uploadId: String, parts: [CompletedPart]) throws(AWSError) -> String? {
        var body = #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
        for part in parts {
            body += "<Part><PartNumber>\(part.partNumber)</PartNumber><ETag>\(XML.escape(part.eTag))</ETag></Part>"
        }
        body += "</CompleteMultipartUpload>"
        var request = try request("POST", bucket: bucket, key: key, headers: ["Content-Type": "application/xml"], body: Data(body.utf8))
        request.query = [("uploadId", uploadId)]
        let root = try rest.call("CompleteMultipartUpload", request)
        if root.name == "Error" {
            throw AWSError(
                kind: .service, service: "S3", operation: "CompleteMultipartUpload", status: 200, code: root.string("Code") ?? "InternalError",
                message: root.string("Message") ?? "", requestID: root.string("RequestId"))
        }
        return root.string("ETag")
    }

    public func abortMultipartUpload(bucket: String, key: String, uploadId: String) throws(AWSError) {
        var request = try request("DELETE", bucket: bucket, key: key)
        request.query = [("uploadId", uploadId)]
        _ = try rest.send("AbortMultipartUpload", request)
    }
}
