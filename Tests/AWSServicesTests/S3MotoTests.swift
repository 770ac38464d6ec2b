import AWSCore
import AWSServices
import AWSTestSupport
import Foundation
import SortieTestSupport
import Testing

@Suite("S3 against moto")
struct S3MotoTests {
    @Test("PutObject, HeadObject and GetObject with byte ranges, on a key that needs encoding")
    func objects() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let s3 = S3(client: client)
        let bucket = unique("chunks")
        try await blocking { try S3(client: client).createBucket(bucket) }
        let key = "runs/2024 ü/chunk $1+2=3.jsonl"
        let body = Data((0..<1000).map { UInt8($0 % 251) })

        let put = try await blocking {
            try s3.putObject(bucket: bucket, key: key, body: body, contentType: "application/x-ndjson", metadata: ["job": "42", "attempt": "1"])
        }
        #expect(put.eTag?.isEmpty == false)

        let head = try await blocking { try s3.headObject(bucket: bucket, key: key) }
        #expect(head.contentLength == 1000)
        #expect(head.contentType == "application/x-ndjson")
        #expect(head.metadata == ["job": "42", "attempt": "1"])
        #expect(head.eTag == put.eTag)

        let whole = try await blocking { try s3.getObject(bucket: bucket, key: key) }
        #expect(whole.status == 200)
        #expect(whole.body == body)

        let middle = try await blocking { try s3.getObject(bucket: bucket, key: key, range: .bytes(10...19)) }
        #expect(middle.status == 206)
        #expect(middle.body == body[10...19])
        #expect(middle.contentRange == "bytes 10-19/1000")
        let tail = try await blocking { try s3.getObject(bucket: bucket, key: key, range: .suffix(5)) }
        #expect(tail.body == body.suffix(5))
        let rest = try await blocking { try s3.getObject(bucket: bucket, key: key, range: .from(990)) }
        #expect(rest.body == body[990...])

        try await blocking { try s3.putObject(bucket: bucket, key: "plain", body: Data("a=1&b=2".utf8)) }
        let plain = try await blocking { try s3.getObject(bucket: bucket, key: "plain") }
        #expect(plain.body == Data("a=1&b=2".utf8), "a body that looks like a form is stored as sent")
        #expect(plain.metadata.contentType == "binary/octet-stream")
    }

    @Test("S3 errors: NoSuchKey from the XML body, NotFound for a body-less HEAD, NoSuchBucket")
    func errors() async throws {
        let server = try await MotoServer.shared()
        let client = motoClient(server)
        let s3 = S3(client: client)
        let bucket = unique("errors")
        try await blocking { try S3(client: client).createBucket(bucket) }

        let missing = await awsError { () throws(AWSError) in try s3.getObject(bucket: bucket, key: "nope/none.txt") }
        #expect(missing?.code == "NoSuchKey")
        #expect(missing?.status == 404)
        #expect(missing?.message.isEmpty == false)
        #expect(missing?.requestID?.isEmpty == false)
        #expect(missing?.operation == "GetObject")

        let head = await awsError { () throws(AWSError) in try s3.headObject(bucket: bucket, key: "nope/none.txt") }
        #expect(head?.code == "NotFound")
        #expect(head?.status == 404)

        let noBucket = await awsError { () throws(AWSError) in try s3.putObject(bucket: unique("absent"), key: "k", body: Data("x".utf8)) }
        #expect(noBucket?.code == "NoSuchBucket")
        #expect(noBucket?.attempts == 1)
    }
}
