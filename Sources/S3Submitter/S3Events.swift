/// One created object, from either event form, with its key decoded.
public struct ObjectCreated: Sendable, Equatable {
    public var bucket: String
    public var key: String
    public var size: Int64?
    public var eTag: String?
    public var versionID: String?
    /// Orders events for the same key; together with the version or eTag it identifies one upload.
    public var sequencer: String?

    public init(bucket: String, key: String, size: Int64? = nil, eTag: String? = nil, versionID: String? = nil, sequencer: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.size = size
        self.eTag = eTag
        self.versionID = versionID
        self.sequencer = sequencer
    }
}

/// The submitter's event: an S3 event notification (`Records[]`, keys URL-encoded with `+` for
/// spaces), EventBridge's `Object Created` (keys as they are), or its own continuation of a
/// file's planning (`sortieContinuation`).
///
/// Besides: the sweep's schedule (an EventBridge `Scheduled Event`, see `FileSweep`) and
/// `{"redrive": "<file id>"}` from `sortie redrive`.
public struct SubmitterEvent: Decodable, Sendable {
    /// The created objects, and the records that are not object creations (with why).
    public var objects: [ObjectCreated]
    public var ignored: [String]
    /// The event is the sweep's schedule.
    public var sweep = false
    /// The file whose failed chunks to run again.
    public var redrive: String?
    public var continuation: PlanningContinuation?

    enum CodingKeys: String, CodingKey {
        case records = "Records", detailType = "detail-type", source, detail, redrive, continuation = "sortieContinuation"
    }

    struct Bucket: Decodable { var name: String }

    struct Record: Decodable {
        struct Entity: Decodable {
            struct Object: Decodable {
                var key: String
                var size: Int64?
                var eTag: String?
                var versionID: String?
                var sequencer: String?
                /// S3's own keys.
                enum CodingKeys: String, CodingKey { case key, size, eTag, versionID = "versionId", sequencer }
            }
            var bucket: Bucket
            var object: Object
        }
        var eventSource: String?
        var eventName: String?
        var s3: Entity?
    }

    struct Detail: Decodable {
        struct Object: Decodable {
            var key: String
            var size: Int64?
            var etag: String?
            var versionID: String?
            var sequencer: String?
            enum CodingKeys: String, CodingKey { case key, size, etag, versionID = "version-id", sequencer }
        }
        var bucket: Bucket
        var object: Object
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        objects = []
        ignored = []
        if let continuation = try container.decodeIfPresent(PlanningContinuation.self, forKey: .continuation) {
            self.continuation = continuation
            return
        }
        if let records = try container.decodeIfPresent([Record].self, forKey: .records) {
            for (index, record) in records.enumerated() {
                guard record.eventSource == "aws:s3", let name = record.eventName, name.hasPrefix("ObjectCreated:"), let s3 = record.s3 else {
                    ignored.append("Records[\(index)]: \(record.eventSource ?? "?") \(record.eventName ?? "?") is not an S3 object creation")
                    continue
                }
                objects.append(ObjectCreated(
                    bucket: s3.bucket.name, key: S3Keys.decodeNotificationKey(s3.object.key), size: s3.object.size,
                    eTag: s3.object.eTag, versionID: s3.object.versionID, sequencer: s3.object.sequencer))
            }
            return
        }
        if let fileID = try container.decodeIfPresent(String.self, forKey: .redrive) {
            redrive = fileID
            return
        }
        let detailType = try container.decodeIfPresent(String.self, forKey: .detailType)
        let source = try container.decodeIfPresent(String.self, forKey: .source)
        if detailType == "Scheduled Event" {
            sweep = true
            return
        }
        guard detailType == "Object Created", source == "aws.s3" else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: [], debugDescription: "neither an S3 notification (Records), an EventBridge 'Object Created' event from aws.s3, a Scheduled Event nor {\"redrive\": FILE}"))
        }
        let detail = try container.decode(Detail.self, forKey: .detail)
        objects = [ObjectCreated(
            bucket: detail.bucket.name, key: detail.object.key, size: detail.object.size, eTag: detail.object.etag,
            versionID: detail.object.versionID, sequencer: detail.object.sequencer)]
    }
}

public enum S3Keys {
    /// Undoes S3 notifications' form encoding: `+` is a space, `%XX` a byte of the UTF-8 key
    /// (so `%2B` is a plus and `%25` a percent sign). A `%` not followed by two hex digits stays.
    public static func decodeNotificationKey(_ encoded: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(encoded.utf8.count)
        let source = Array(encoded.utf8)
        var i = 0
        while i < source.count {
            let byte = source[i]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), i + 2 < source.count, let high = hex(source[i + 1]), let low = hex(source[i + 2]) {
                bytes.append(high << 4 | low)
                i += 2
            } else {
                bytes.append(byte)
            }
            i += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
