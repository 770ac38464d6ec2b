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

/// Streams a byte range of an S3 object as ranged GETs of `partSize` bytes, one part in
/// memory at a time. Every GET carries `If-Match` with the planned eTag: a replaced object
/// fails with `PreconditionFailed` rather than being read with stale boundaries.
public struct ObjectReader: Sendable {
    public let s3: S3
    public let partSize: Int64

    public init(s3: S3, partSize: Int64 = 8 << 20) {
        self.s3 = s3
        self.partSize = max(1, partSize)
    }

    /// Calls `body` with each part in order until the range is read or `body` returns false.
    public func read(_ object: ObjectRef, range: Range<Int64>, _ body: (Data) throws -> Bool) throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let last = min(offset + partSize, range.upperBound) - 1
            let part = try s3.getObject(bucket: object.bucket, key: object.key, range: .bytes(offset...last), ifMatch: object.eTag)
            guard part.body.count == Int(last - offset + 1) else {
                throw ObjectReadError(description: "s3://\(object.bucket)/\(object.key): asked for bytes \(offset)-\(last), got \(part.body.count) bytes")
            }
            offset = last + 1
            guard try body(part.body) else { return }
        }
    }
}
