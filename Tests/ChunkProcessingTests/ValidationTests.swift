@testable import ChunkProcessing
import ChunkPlanning
import ChunkTestSupport
import Foundation
import RecordFormats
import Testing

/// Validates the CSV `text` (one header line, then records) against `rules`; returns each
/// record's JSON line or reject reason.
func validateCSV(_ text: String, rules: [FieldRule]) throws -> [Result<String, RejectReason>] {
    var results: [Result<String, RejectReason>] = []
    var schema: RecordSchema?
    var reader = RecordReader(format: .csv)
    let collect: (RawRecord) throws -> Void = { record in
        guard let schema else {
            let names = record.fields.map { String(decoding: record.value(of: $0), as: UTF8.self) }
            schema = try RecordSchema(rules: rules, columns: names)
            return
        }
        let (line, reason) = ByteWriter.bytes(atMost: schema.outputBound(record)) { schema.appendCSV(record, to: &$0) }
        if let reason {
            results.append(.failure(RejectReason(text: reason)))
        } else {
            results.append(.success(String(decoding: line, as: UTF8.self)))
        }
    }
    try reader.feed(Array(text.utf8), collect)
    try reader.finish(collect)
    return results
}

struct RejectReason: Error, Equatable {
    var text: String
}

@Suite("Record validation and JSON output")
struct ValidationTests {
    static let rules = [
        FieldRule(name: "id", type: .integer, required: true),
        FieldRule(name: "code", type: .string, required: true, pattern: "^C[0-9]{4}$"),
        FieldRule(name: "amount", type: .number),
        FieldRule(name: "active", type: .boolean),
        FieldRule(name: "day", type: .date),
        FieldRule(name: "note", type: .string),
    ]

    @Test("valid records become typed JSON objects, in the feed's field order, whatever the column order")
    func validRecords() throws {
        let text = "note,day,active,amount,code,id\n\"a \"\"quoted\"\", multi\nline\",2024-02-29,TRUE,+007.50,C0042,0012\n,,0,.5e-3,C1000,-3\n"
        let results = try validateCSV(text, rules: Self.rules)
        #expect(results == [
            .success(#"{"id":12,"code":"C0042","amount":7.50,"active":true,"day":"2024-02-29","note":"a \"quoted\", multi\nline"}"#),
            .success(#"{"id":-3,"code":"C1000","amount":0.5e-3,"active":false,"day":null,"note":null}"#),
        ])
        for case .success(let json) in results {
            #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(json.utf8)) }
        }
    }

    @Test("each rule rejects with a reason naming the field")
    func rejects() throws {
        let header = "id,code,amount,active,day,note\n"
        let cases: [(String, String)] = [
            (",C0001,,,,", "id: required"),
            ("x1,C0001,,,,", "id: not an integer"),
            ("1,C01,,,,", "code: does not match ^C[0-9]{4}$"),
            ("1,C0001,1e,,,", "amount: not a number"),
            ("1,C0001,,yes,,", "active: not a boolean"),
            ("1,C0001,,,2023-02-29,", "day: not a date (YYYY-MM-DD)"),
            ("1,C0001,,,", "expected 6 fields, found 5"),
            ("1,C0001,,,,\"bad\"x", "field 6: text after the closing quote"),
        ]
        for (record, reason) in cases {
            let results = try validateCSV(header + record + "\n", rules: Self.rules)
            #expect(results == [.failure(RejectReason(text: reason))], "\(record)")
        }
        // Bytes that are not UTF-8 are refused rather than passed on.
        var bytes = Array((header + "1,C0001,,,,").utf8)
        bytes += [0xC3, 0x28, 0x0A]
        var reader = RecordReader(format: .csv)
        var reasons: [String?] = []
        var schema: RecordSchema?
        try reader.feed(bytes) { record in
            guard let schema else {
                schema = try RecordSchema(rules: Self.rules, columns: record.fields.map { String(decoding: record.value(of: $0), as: UTF8.self) })
                return
            }
            reasons.append(ByteWriter.bytes(atMost: schema.outputBound(record)) { schema.appendCSV(record, to: &$0) }.1)
        }
        #expect(reasons == ["note: not UTF-8"])
    }

    @Test("a required column missing from the header fails the chunk, not each record")
    func missingColumn() {
        #expect(throws: SchemaError.self) { try RecordSchema(rules: Self.rules, columns: ["id", "note"]) }
    }

    @Test("JSON Lines records are checked by key and type, and passed through as they are")
    func jsonLines() throws {
        let schema = try RecordSchema(rules: Self.rules, columns: nil)
        let lines = [
            (#"{"id": 7, "code": "C1234", "amount": 1.5, "active": true, "day": "2024-01-31", "extra": [1, {"x": null}]}"#, nil as String?),
            (#"{"id": 7.5, "code": "C1234"}"#, "id: not an integer"),
            (#"{"code": "C1234"}"#, "id: required"),
            (#"{"id": 1, "code": "C\u0031234"}"#, nil),
            (#"{"id": 1, "code": "C12345"}"#, "code: does not match ^C[0-9]{4}$"),
            (#"{"id": 1, "code": "C1234",}"#, "invalid JSON at byte 27: expected a key"),
            (#"[1]"#, "invalid JSON at byte 1: expected an object"),
        ]
        var members: [JSONMember] = []
        for (text, reason) in lines {
            var reader = RecordReader(format: .jsonLines)
            var got: [String?] = []
            var out: [UInt8] = []
            try reader.feed(Array((text + "\n").utf8)) { record in
                let written = ByteWriter.bytes(atMost: schema.outputBound(record)) { schema.appendJSONLine(record, members: &members, to: &$0) }
                out = written.0
                got.append(written.1)
            }
            #expect(got == [reason], "\(text)")
            if reason == nil { #expect(String(decoding: out, as: UTF8.self) == text) }
        }
    }

    @Test("patterns: classes, counts, groups, alternatives, dot over UTF-8, escapes")
    func patterns() throws {
        func matches(_ pattern: String, _ text: String) throws -> Bool {
            var set = PatternSet()
            let index = set.add(try FieldPattern(pattern))
            return Array(text.utf8).withUnsafeBufferPointer { set.matches(index, $0) }
        }
        #expect(try matches("^C[0-9]{8}$", "C12345678"))
        #expect(try !matches("^C[0-9]{8}$", "C1234567"))
        #expect(try !matches("^C[0-9]{8}$", "C123456789"))
        #expect(try matches("(USD|EUR|GBP)", "EUR"))
        #expect(try !matches("(USD|EUR|GBP)", "EURO"))
        #expect(try matches(#"[^@\s]+@[^@\s]+\.[a-z]{2,}"#, "jane.doe+x@example.org"))
        #expect(try !matches(#"[^@\s]+@[^@\s]+\.[a-z]{2,}"#, "jane@@example.org"))
        #expect(try matches("a.c", "aéc"), "dot takes one whole character")
        #expect(try !matches("a.c", "a\nc"))
        #expect(try matches(#"\d+(\.\d{1,2})?"#, "12.50"))
        #expect(try !matches(#"\d+(\.\d{1,2})?"#, "12.505"))
        #expect(try matches("x*y?z+", "zzz"))
        #expect(try matches("(?:ab)+", "ababab"))
        #expect(try matches("[a-]+", "a-a"))
        #expect(try matches("café", "café"))
        #expect(throws: PatternError.self) { try FieldPattern("(ab") }
        #expect(throws: PatternError.self) { try FieldPattern("*a") }
        #expect(throws: PatternError.self) { try FieldPattern("[é]") }
    }
}
