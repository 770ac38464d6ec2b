import RecordFormats

/// A record header: a name and bytes.
public struct KafkaHeader: Sendable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(_ key: String, _ value: String) {
        self.key = Array(key.utf8)
        self.value = Array(value.utf8)
    }
}

public enum KafkaCompression: String, Sendable {
    case none, gzip
}

/// Records of one partition gathered into one record batch (message format v2, magic 2): the
/// records as encoded, then `close` puts the 61-byte header in front, with the producer id,
/// epoch and first sequence that make retries idempotent, and the CRC-32C.
struct OpenBatch {
    /// The batch header's size: baseOffset … recordCount.
    static let headerBytes = 61
    private(set) var records: [UInt8] = []
    private(set) var count: Int32 = 0
    let firstTimestamp: Int64

    init(timestamp: Int64, capacity: Int) {
        firstTimestamp = timestamp
        records.reserveCapacity(capacity)
    }

    var size: Int { Self.headerBytes + records.count }

    /// The bytes one record takes in a batch, its length prefix included.
    static func recordSize(key: UnsafeBufferPointer<UInt8>?, valueCount: Int, headers: [KafkaHeader], offsetDelta: Int32) -> Int {
        let body = bodySize(key: key, valueCount: valueCount, headers: headers, offsetDelta: offsetDelta)
        return KafkaWriter.varintSize(Int64(body)) + body
    }

    private static func bodySize(key: UnsafeBufferPointer<UInt8>?, valueCount: Int, headers: [KafkaHeader], offsetDelta: Int32) -> Int {
        var size = 2 + KafkaWriter.varintSize(Int64(offsetDelta))  // attributes, timestamp delta 0
        if let key { size += KafkaWriter.varintSize(Int64(key.count)) + key.count } else { size += 1 }
        size += KafkaWriter.varintSize(Int64(valueCount)) + valueCount + KafkaWriter.varintSize(Int64(headers.count))
        for header in headers {
            size += KafkaWriter.varintSize(Int64(header.key.count)) + header.key.count + KafkaWriter.varintSize(Int64(header.value.count)) + header.value.count
        }
        return size
    }

    mutating func append(key: UnsafeBufferPointer<UInt8>?, value: UnsafeBufferPointer<UInt8>, headers: [KafkaHeader]) {
        var writer = KafkaWriter(bytes: records)
        records = []
        writer.varint(Int64(Self.bodySize(key: key, valueCount: value.count, headers: headers, offsetDelta: count)))
        writer.int8(0)  // attributes: none defined for records
        writer.varint(0)  // timestamp delta: every record takes the batch's time
        writer.varint(Int64(count))
        if let key {
            writer.varint(Int64(key.count))
            writer.bytes.append(contentsOf: key)
        } else {
            writer.varint(-1)
        }
        writer.varint(Int64(value.count))
        writer.bytes.append(contentsOf: value)
        writer.varint(Int64(headers.count))
        for header in headers {
            writer.varint(Int64(header.key.count))
            writer.bytes += header.key
            writer.varint(Int64(header.value.count))
            writer.bytes += header.value
        }
        records = writer.bytes
        count += 1
    }

    /// The whole batch, ready to send.
    func close(producerID: Int64, epoch: Int16, baseSequence: Int32, compression: KafkaCompression) throws(GzipError) -> SealedBatch {
        let payload = compression == .gzip ? try Gzip.compress(records, level: 1) : records
        var writer = KafkaWriter()
        writer.bytes.reserveCapacity(Self.headerBytes + payload.count)
        writer.int64(0)  // base offset: the broker assigns offsets
        writer.int32(Int32(Self.headerBytes - 12 + payload.count))  // length after this field
        writer.int32(-1)  // partition leader epoch: the broker's to set
        writer.int8(2)  // magic
        writer.uint32(0)  // CRC, patched below
        writer.int16(compression == .gzip ? 1 : 0)  // attributes: codec in bits 0-2; create time; not transactional
        writer.int32(count - 1)  // last offset delta
        writer.int64(firstTimestamp)
        writer.int64(firstTimestamp)  // max timestamp: all records share the batch's time
        writer.int64(producerID)
        writer.int16(epoch)
        writer.int32(baseSequence)
        writer.int32(count)
        writer.bytes += payload
        // The CRC covers everything from the attributes to the end.
        let crc = writer.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        writer.patch(int32: crc, at: 17)
        return SealedBatch(bytes: writer.bytes, count: count, baseSequence: baseSequence)
    }
}

/// A closed batch: its bytes never change, so a retry sends exactly what the first try did.
struct SealedBatch {
    let bytes: [UInt8]
    let count: Int32
    let baseSequence: Int32
}
