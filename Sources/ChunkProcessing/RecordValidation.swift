import ChunkStore
import RecordFormats

/// The processor's record loop without any I/O: bytes in, each record validated and written
/// as a JSON line (valid) or handed back with its reason (rejected). The chunk processor and
/// the benchmark run exactly this.
public struct RecordValidation {
    private var reader: RecordReader
    private var checker: Checker

    public init(format: RecordFormat, schema: RecordSchema, scanner: RecordScanner, maxRecordBytes: Int) {
        reader = RecordReader(scanner: scanner, maxRecordBytes: maxRecordBytes)
        checker = Checker(schema: schema, format: format)
    }

    public var counts: ChunkCounts { checker.counts }

    /// `deliver` gets each valid record's JSON (valid during the call only) and its number in the
    /// file (from 1); it may refuse the record with a reason. `reject` gets each invalid record
    /// with the reason.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, deliver: Deliver, reject: (RawRecord, String) throws -> Void
    ) throws {
        try reader.feed(bytes) { try checker.take($0, deliver, reject) }
    }

    public mutating func finish(deliver: Deliver, reject: (RawRecord, String) throws -> Void) throws {
        try reader.finish { try checker.take($0, deliver, reject) }
    }

    public typealias Deliver = (UnsafeBufferPointer<UInt8>, Int) throws -> String?

    /// Per-record state, apart from the reader that produces the records.
    private struct Checker {
        let schema: RecordSchema
        let format: RecordFormat
        /// Room for one record's JSON, replaced only for a record bigger than any before.
        var scratch = Scratch(capacity: 0)
        var members: [JSONMember] = []
        var counts = ChunkCounts()

        mutating func take(_ record: RawRecord, _ deliver: Deliver, _ reject: (RawRecord, String) throws -> Void) throws {
            counts.read += 1
            let bound = schema.outputBound(record)
            if scratch.space.count < bound { scratch = Scratch(capacity: max(bound, 2 * scratch.space.count)) }
            var line = ByteWriter(scratch.space)
            let invalid: String? = switch format {
            case .csv: schema.appendCSV(record, to: &line)
            case .jsonLines: schema.appendJSONLine(record, members: &members, to: &line)
            }
            if let reason = try invalid ?? deliver(line.written, record.boundary.index + 1) {
                counts.rejected += 1
                try reject(record, reason)
            } else {
                counts.valid += 1
            }
        }
    }

    /// Memory the record loop writes into; a class only so that it is freed.
    private final class Scratch {
        let space: UnsafeMutableBufferPointer<UInt8>

        init(capacity: Int) {
            space = .allocate(capacity: capacity)
        }

        deinit {
            space.deallocate()
        }
    }
}
