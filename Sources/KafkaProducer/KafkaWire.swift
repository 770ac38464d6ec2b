/// Kafka's primitive types, big-endian, as the protocol guide defines them: fixed-width
/// integers, `STRING`/`NULLABLE_STRING` (int16 length), `BYTES` (int32 length), arrays
/// (int32 count), and the zig-zag varints of record batches.
struct KafkaWriter {
    var bytes: [UInt8] = []

    mutating func int8(_ value: Int8) { bytes.append(UInt8(bitPattern: value)) }
    mutating func int16(_ value: Int16) { bigEndian(UInt64(UInt16(bitPattern: value)), width: 2) }
    mutating func int32(_ value: Int32) { bigEndian(UInt64(UInt32(bitPattern: value)), width: 4) }
    mutating func int64(_ value: Int64) { bigEndian(UInt64(bitPattern: value), width: 8) }
    mutating func uint32(_ value: UInt32) { bigEndian(UInt64(value), width: 4) }

    private mutating func bigEndian(_ value: UInt64, width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func string(_ value: String) {
        int16(Int16(truncatingIfNeeded: value.utf8.count))
        bytes += value.utf8
    }

    mutating func nullableString(_ value: String?) {
        guard let value else { return int16(-1) }
        string(value)
    }

    mutating func bytesField(_ value: [UInt8]) {
        int32(Int32(truncatingIfNeeded: value.count))
        bytes += value
    }

    mutating func array<T>(_ items: [T], _ each: (inout KafkaWriter, T) -> Void) {
        int32(Int32(items.count))
        for item in items { each(&self, item) }
    }

    /// Zig-zag varint (record fields).
    mutating func varint(_ value: Int64) {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Overwrites four bytes at `offset` (sizes and CRCs known only once the rest is written).
    mutating func patch(int32 value: UInt32, at offset: Int) {
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * k)) }
    }

    static func varintSize(_ value: Int64) -> Int {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var size = 1
        while rest >= 0x80 {
            rest >>= 7
            size += 1
        }
        return size
    }
}

/// A response that does not parse as the version asked for.
struct KafkaDecodingError: Error, Sendable {
    var what: String
}

/// Reads a response's fields in order.
struct KafkaReader {
    private let bytes: [UInt8]
    private var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    private mutating func take(_ width: Int) throws(KafkaDecodingError) -> UInt64 {
        guard offset + width <= bytes.count else { throw KafkaDecodingError(what: "response ends inside a field") }
        var value: UInt64 = 0
        for k in 0..<width { value = value << 8 | UInt64(bytes[offset + k]) }
        offset += width
        return value
    }

    mutating func int8() throws(KafkaDecodingError) -> Int8 { Int8(truncatingIfNeeded: try take(1)) }
    mutating func bool() throws(KafkaDecodingError) -> Bool { try take(1) != 0 }
    mutating func int16() throws(KafkaDecodingError) -> Int16 { Int16(truncatingIfNeeded: try take(2)) }
    mutating func int32() throws(KafkaDecodingError) -> Int32 { Int32(truncatingIfNeeded: try take(4)) }
    mutating func int64() throws(KafkaDecodingError) -> Int64 { Int64(bitPattern: try take(8)) }

    mutating func nullableString() throws(KafkaDecodingError) -> String? {
        let length = Int(try int16())
        guard length >= 0 else { return nil }
        guard offset + length <= bytes.count else { throw KafkaDecodingError(what: "a string runs past the response") }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    mutating func string() throws(KafkaDecodingError) -> String { try nullableString() ?? "" }

    mutating func bytesField() throws(KafkaDecodingError) -> [UInt8] {
        let length = Int(try int32())
        guard length >= 0 else { return [] }
        guard offset + length <= bytes.count else { throw KafkaDecodingError(what: "a byte field runs past the response") }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// An unsigned varint (KIP-482's lengths and tags).
    mutating func unsignedVarint() throws(KafkaDecodingError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 35, by: 7) {
            let byte = try take(1)
            value |= (byte & 0x7F) << UInt64(shift)
            if byte & 0x80 == 0 { return value }
        }
        throw KafkaDecodingError(what: "a varint longer than five bytes")
    }

    /// Skips a tagged-field section: a count, then each field's tag, size and bytes.
    mutating func skipTaggedFields() throws(KafkaDecodingError) {
        for _ in 0..<(try unsignedVarint()) {
            _ = try unsignedVarint()
            let size = Int(try unsignedVarint())
            guard offset + size <= bytes.count else { throw KafkaDecodingError(what: "a tagged field runs past the response") }
            offset += size
        }
    }

    mutating func array<T>(_ each: (inout KafkaReader) throws(KafkaDecodingError) -> T) throws(KafkaDecodingError) -> [T] {
        let count = Int(try int32())
        guard count <= bytes.count - offset else { throw KafkaDecodingError(what: "an array count larger than the response") }
        var items: [T] = []
        for _ in 0..<max(count, 0) { items.append(try each(&self)) }
        return items
    }
}
