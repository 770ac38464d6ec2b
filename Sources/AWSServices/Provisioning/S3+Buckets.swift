import AWSCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension S3 {
    /// Creates a bucket in the client's region (us-east-1 takes no location constraint).
    public func createBucket(_ name: String) throws(AWSError) {
        let region = rest.client.configuration.region
        let body = region == "us-east-1" ? Data() : Data("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\
            <LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        var headers: HTTPHeaders = [:]
        if !body.isEmpty { headers.set("Content-Type", "application/xml") }
        _ = try rest.send("CreateBucket", AWSRequest(method: "PUT", path: "/\(name)", headers: headers, body: body))
    }
}
