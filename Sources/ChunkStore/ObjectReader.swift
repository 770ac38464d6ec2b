import AWSCore
import AWSServices
import ChunkPlanning
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The object changed or answered with fewer bytes than asked for.
public struct ObjectReadError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Streams a byte range of an S3 object as ranged GETs of `partSize` bytes. Every GET carries
/// `If-Match` with the planned eTag: a replaced object fails with `PreconditionFailed` rather
/// than being read with stale boundaries. With `readAhead` above 1, that many GETs are in
/// flight ahead of the reader (memory: about `readAhead + 1` parts); otherwise one part at a time.
public struct ObjectReader: Sendable {
    public let s3: S3
    public let partSize: Int64
    public let readAhead: Int

    public init(s3: S3, partSize: Int64 = 8 << 20, readAhead: Int = 1) {
        self.s3 = s3
        self.partSize = max(1, partSize)
        self.readAhead = max(1, readAhead)
    }

    /// Calls `body` with each part in order until the range is read or `body` returns false.
    public func read(_ object: ObjectRef, range: Range<Int64>, _ body: (Data) throws -> Bool) throws {
        let count = Int((range.upperBound - range.lowerBound + partSize - 1) / partSize)
        let (s3, partSize) = (s3, partSize)
        let fetch: @Sendable (Int) throws -> Data = { index in
            let offset = range.lowerBound + Int64(index) * partSize
            let last = min(offset + partSize, range.upperBound) - 1
            let part = try s3.getObject(bucket: object.bucket, key: object.key, range: .bytes(offset...last), ifMatch: object.eTag)
            guard part.body.count == Int(last - offset + 1) else {
                throw ObjectReadError(description: "s3://\(object.bucket)/\(object.key): asked for bytes \(offset)-\(last), got \(part.body.count) bytes")
            }
            return part.body
        }
        guard readAhead > 1, count > 1 else {
            for index in 0..<count {
                guard try body(fetch(index)) else { return }
            }
            return
        }
        try ReadAhead.run(count: count, width: readAhead, fetch: fetch, body)
    }
}
