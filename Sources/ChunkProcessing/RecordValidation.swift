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

    /// `deliver` gets each valid record's JSON (and may refuse it with a reason); `reject`
    /// gets each invalid record with the reason.
    public mutating func feed(
        _ bytes: UnsafeRawBufferPointer, deliver: ([UInt8]) throws -> String?, reject: (RawRecord, String) throws -> Void
    ) throws {
        try reader.feed(bytes) { try checker.take($0, deliver, reject) }
    }

    public mutating func finish(deliver: ([UInt8]) throws -> String?, reject: (RawRecord, String) throws -> Void) throws {
        try reader.finish { try checker.take($0, deliver, reject) }
    }

    /// Per-record state, apart from the reader that produces the records.
    private struct Checker {
        let schema: RecordSchema
        let format: RecordFormat
        var line: [UInt8] = []
        var members: [JSONMember] = []
        var counts = ChunkCounts()

        mutating func take(_ record: RawRecord, _ deliver: ([UInt8]) throws -> String?, _ reject: (RawRecord, String) throws -> Void) throws {
            counts.read += 1
            line.removeAll(keepingCapacity: true)
            let invalid: String? = switch format {
            case .csv: schema.appendCSV(record, to: &line)
            case .jsonLines: schema.appendJSONLine(record, members: &members, to: &line)
            }
            if let reason = try invalid ?? deliver(line) {
                counts.rejected += 1
                try reject(record, reason)
            } else {
                counts.valid += 1
            }
        }
    }
}
