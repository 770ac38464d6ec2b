import RecordFormats
import Testing

/// A record as plain values, for comparing.
struct ReadRecord: Equatable, CustomStringConvertible {
    var line: Int
    var index: Int
    var fields: [String]
    var defect: RecordDefect?

    var description: String { "#\(index)@\(line) \(fields)\(defect.map { " !\($0)" } ?? "")" }
}

/// Reads `text` fed in pieces of `pieceSize` bytes (0: in one piece).
func readCSV(_ bytes: [UInt8], pieceSize: Int = 0, format: RecordFormat = .csv) throws -> [ReadRecord] {
    var reader = RecordReader(format: format)
    var records: [ReadRecord] = []
    let collect: (RawRecord) -> Void = { record in
        let fields: [String]
        if record.fields.isEmpty {
            fields = [String(decoding: record.bytes, as: UTF8.self)]
        } else {
            fields = record.fields.map { String(decoding: record.value(of: $0), as: UTF8.self) }
        }
        records.append(ReadRecord(line: record.boundary.line, index: record.boundary.index, fields: fields, defect: record.boundary.defect))
    }
    let step = pieceSize > 0 ? pieceSize : max(bytes.count, 1)
    var offset = 0
    while offset < bytes.count {
        try reader.feed(Array(bytes[offset..<min(offset + step, bytes.count)]), collect)
        offset += step
    }
    reader.finish(collect)
    return records
}

func readCSV(_ text: String, pieceSize: Int = 0) throws -> [ReadRecord] {
    try readCSV(Array(text.utf8), pieceSize: pieceSize)
}

@Suite("RFC 4180 CSV on bytes")
struct CSVReadingTests {
    static let tricky = "id,name,note\r\n1,\"Smith, Jane\",\"said \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",x\n\n3,,\"\"\n4,last,no newline"

    @Test("quoted delimiters, doubled quotes, quoted newlines, CRLF, empty lines and a last line without newline")
    func trickyFile() throws {
        let records = try readCSV(Self.tricky)
        #expect(records == [
            ReadRecord(line: 1, index: 0, fields: ["id", "name", "note"]),
            ReadRecord(line: 2, index: 1, fields: ["1", "Smith, Jane", "said \"hi\""]),
            ReadRecord(line: 4, index: 2, fields: ["2", "two\nlines", "x"]),
            ReadRecord(line: 7, index: 3, fields: ["3", "", ""]),
            ReadRecord(line: 8, index: 4, fields: ["4", "last", "no newline"]),
        ])
    }

    @Test("the same records whatever the piece size", arguments: [1, 2, 3, 5, 7, 13, 64])
    func pieceSizes(_ size: Int) throws {
        #expect(try readCSV(Self.tricky, pieceSize: size) == (try readCSV(Self.tricky)))
    }

    @Test("a UTF-8 byte order mark at the start is not content, even split across pieces")
    func byteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("\"a\",b\nc,d\n".utf8)
        for size in [0, 1, 2] {
            let records = try readCSV(bytes, pieceSize: size)
            #expect(records.map(\.fields) == [["a", "b"], ["c", "d"]], "piece size \(size)")
            #expect(records.allSatisfy { $0.defect == nil })
        }
        // Bytes that only start like a BOM are content.
        let notBOM: [UInt8] = [0xEF, 0xBB, 0x41] + Array(",b\n".utf8)
        #expect(try readCSV(notBOM).first?.fields == [String(decoding: [0xEF, 0xBB, 0x41], as: UTF8.self), "b"])
    }

    @Test("malformed records are flagged but keep their exact boundaries")
    func defects() throws {
        let records = try readCSV("a,b\"c,d\n\"x\"y,z\n1,2\n\"open,3\n4,5\n")
        #expect(records.count == 4)
        #expect(records[0].defect == .quoteInUnquotedField(field: 2))
        #expect(records[1].defect == .textAfterClosingQuote(field: 1))
        #expect(records[2].fields == ["1", "2"])
        #expect(records[2].defect == nil)
        #expect(records[3].defect == .unterminatedQuote)
        // An unclosed quote runs to the end of the input, and says so.
        let open = try readCSV("1,2\n\"open,3\n4,5\n")
        #expect(open.count == 2)
        #expect(open[1].defect == .unterminatedQuote)
        #expect(open[1].line == 2)
    }

    @Test("a record longer than the limit fails instead of growing without bound")
    func recordTooLong() throws {
        var reader = RecordReader(format: .csv, maxRecordBytes: 1024)
        let bytes = Array(("\"" + String(repeating: "x", count: 2048)).utf8)
        #expect(throws: RecordTooLong.self) {
            try reader.feed(bytes) { _ in }
        }
    }

    @Test("other delimiters: tab and semicolon")
    func delimiters() throws {
        var reader = RecordReader(format: .csv(delimiter: UInt8(ascii: ";")))
        var fields: [[String]] = []
        try reader.feed(Array("a;\"b;c\"\n".utf8)) { record in fields.append(record.fields.map { String(decoding: record.value(of: $0), as: UTF8.self) }) }
        #expect(fields == [["a", "b;c"]])
        #expect(RecordFormat(name: "tsv") == .csv(delimiter: 9))
        #expect(RecordFormat(name: "csv", delimiter: "\"") == nil)
    }

    @Test("JSON Lines: one record per non-empty line, CRLF tolerated, stream offsets exact")
    func jsonLines() throws {
        let text = "{\"a\":1}\r\n\n{\"a\":\"x\\ny\"}\n{\"b\":2}"
        var reader = RecordReader(format: .jsonLines)
        var seen: [(String, Int, Int64, Int64)] = []
        let collect: (RawRecord) -> Void = { seen.append((String(decoding: $0.bytes, as: UTF8.self), $0.boundary.line, $0.boundary.start, $0.boundary.next)) }
        try reader.feed(Array(text.utf8), collect)
        reader.finish(collect)
        #expect(seen.map(\.0) == ["{\"a\":1}", "{\"a\":\"x\\ny\"}", "{\"b\":2}"])
        #expect(seen.map(\.1) == [1, 3, 4])
        #expect(seen.map(\.2) == [0, 10, 23])
        #expect(seen.map(\.3) == [9, 23, 30])
    }
}
