/// A record as the reader hands it out: valid only inside the callback that receives it.
public struct RawRecord {
    private let buffer: UnsafeBufferPointer<UInt8>
    /// Stream offset of `buffer[0]`.
    private let base: Int64
    public let boundary: RecordBoundary
    /// CSV fields (empty for JSON Lines); read them with `bytes(of:)`.
    public let fields: UnsafeBufferPointer<FieldSpan>

    init(buffer: UnsafeBufferPointer<UInt8>, base: Int64, boundary: RecordBoundary, fields: UnsafeBufferPointer<FieldSpan>) {
        self.buffer = buffer
        self.base = base
        self.boundary = boundary
        self.fields = fields
    }

    /// The record's content, without its terminator.
    public var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: buffer[Int(boundary.start - base)..<Int(boundary.end - base)])
    }

    /// A field's raw content: inside its quotes, doubled quotes still doubled.
    public func bytes(of field: FieldSpan) -> UnsafeBufferPointer<UInt8> {
        let offset = Int(base)
        return UnsafeBufferPointer(rebasing: buffer[(field.start - offset)..<(field.end - offset)])
    }

    /// A field's value: doubled quotes made single (allocates only for such fields).
    public func value(of field: FieldSpan) -> [UInt8] {
        let raw = bytes(of: field)
        guard field.hasEscapedQuotes else { return Array(raw) }
        var value: [UInt8] = []
        value.reserveCapacity(raw.count)
        var skipNext = false
        for byte in raw {
            if skipNext { skipNext = false; continue }
            value.append(byte)
            if byte == UInt8(ascii: "\"") { skipNext = true }
        }
        return value
    }
}

/// The input held a record longer than the reader's limit (often a quote that is never closed).
public struct RecordTooLong: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var limit: Int
    public var description: String { "the record starting on line \(line) is longer than \(limit) bytes" }
}

/// Records from a stream fed in pieces: each piece is scanned where it lies, and only the
/// unfinished record at its end is copied for the next, so memory stays within one piece plus
/// one record and the bytes are not copied on the way through.
public struct RecordReader: Sendable {
    public private(set) var scanner: RecordScanner
    /// The unfinished record at the end of what was fed so far.
    private var carry: [UInt8] = []
    /// Stream offset of `carry[0]`.
    private var carryBase: Int64
    public let maxRecordBytes: Int

    public init(scanner: RecordScanner, maxRecordBytes: Int = 64 << 20) {
        self.scanner = scanner
        self.carryBase = scanner.position
        self.maxRecordBytes = maxRecordBytes
    }

    public init(format: RecordFormat, atFileStart: Bool = true, maxRecordBytes: Int = 64 << 20) {
        self.init(scanner: RecordScanner(format: format, atFileStart: atFileStart), maxRecordBytes: maxRecordBytes)
    }

    public mutating func feed(_ piece: UnsafeRawBufferPointer, _ body: (RawRecord) throws -> Void) throws {
        let bytes = piece.assumingMemoryBound(to: UInt8.self)
        let base = scanner.position
        var scanner = self.scanner
        let (carry, carryBase) = (self.carry, self.carryBase)
        try scanner.scan(bytes) { boundary, fields in
            guard boundary.start < base else {
                return try body(RawRecord(buffer: bytes, base: base, boundary: boundary, fields: fields))
            }
            // The record began in an earlier piece (at most one per piece): join its two parts.
            let joined = carry[Int(boundary.start - carryBase)...] + bytes[..<Int(boundary.next - base)]
            try joined.withUnsafeBufferPointer { try body(RawRecord(buffer: $0, base: boundary.start, boundary: boundary, fields: fields)) }
        }
        self.scanner = scanner
        let start = scanner.recordStart
        if start >= base {
            self.carry = Array(bytes[Int(start - base)...])
        } else {
            self.carry.removeSubrange(0..<Int(start - carryBase))
            self.carry.append(contentsOf: bytes)
        }
        self.carryBase = start
        if scanner.position - start > maxRecordBytes {
            throw RecordTooLong(line: scanner.recordLine, limit: maxRecordBytes)
        }
    }

    public mutating func feed(_ piece: [UInt8], _ body: (RawRecord) throws -> Void) throws {
        try piece.withUnsafeBytes { try feed($0, body) }
    }

    /// The end of the stream: hands out a last record that has no line terminator.
    public mutating func finish(_ body: (RawRecord) throws -> Void) rethrows {
        var scanner = self.scanner
        let base = carryBase
        try carry.withUnsafeBufferPointer { all in
            try scanner.finish { boundary, fields in
                try body(RawRecord(buffer: all, base: base, boundary: boundary, fields: fields))
            }
        }
        self.scanner = scanner
    }
}
