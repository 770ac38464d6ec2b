import ChunkPlanning
import ChunkProcessing
import RecordFormats
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Record files: the scanner must find the same records however the bytes arrive, and every
/// record the processor delivers must be one JSON object.
extension FuzzTarget {
    static let records: [FuzzTarget] = [
        FuzzTarget(name: "records", summary: "CSV/TSV/JSON Lines scanning: the same records whole or fed in arbitrary pieces",
                   seeds: { recordSeeds }) { input in
            guard let (format, cuts, data) = split(input) else { return }
            let whole = scan(data, format: format, pieces: [data.count])
            let pieced = scan(data, format: format, pieces: cuts)
            // The size limit bounds what is carried from one piece to the next, so a record inside
            // one piece may pass it: fed in pieces, the reader may stop earlier, never differ before.
            switch (whole, pieced) {
            case (.records(let all), .tooLong(_, let before)), (.tooLong(_, let all), .tooLong(_, let before)):
                precondition(all.starts(with: before), "records differ when the input is fed in pieces \(cuts): \(all) vs \(before)")
            default:
                precondition(whole == pieced, "records differ when the input is fed in pieces \(cuts): \(whole) vs \(pieced)")
            }
        },
        FuzzTarget(name: "record-validation", summary: "the chunk processor's record loop on the orders schema: delivered lines are JSON objects, counts add up",
                   seeds: { recordSeeds }) { input in
            guard let (format, cuts, data) = split(input) else { return }
            validate(data, format: format, pieces: cuts)
        },
    ]

    /// The first byte picks the format and how the rest is cut into pieces.
    private static func split(_ input: [UInt8]) -> (RecordFormat, [Int], [UInt8])? {
        guard let selector = input.first else { return nil }
        let formats: [RecordFormat] = [.csv, .csv(delimiter: UInt8(ascii: "\t")), .jsonLines]
        let data = Array(input.dropFirst())
        var cuts: [Int] = []
        var seed = UInt64(selector) &* 0x9E37_79B9_7F4A_7C15 | 1
        var remaining = data.count
        while remaining > 0 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            let size = min(remaining, 1 + Int(seed % 16))
            cuts.append(size)
            remaining -= size
        }
        return (formats[Int(selector) % formats.count], cuts, data)
    }

    private struct Scanned: Equatable, CustomStringConvertible {
        var start, end: Int64
        var line, index, fields: Int
        var defect: RecordDefect?
        var description: String { "[\(start)..<\(end) line \(line) #\(index) \(fields) fields\(defect.map { " \($0)" } ?? "")]" }
    }

    private enum Outcome: Equatable {
        case records([Scanned])
        case tooLong(RecordTooLong, after: [Scanned])
    }

    private static func scan(_ data: [UInt8], format: RecordFormat, pieces: [Int]) -> Outcome {
        var reader = RecordReader(format: format, maxRecordBytes: 256)
        var found: [Scanned] = []
        let take = { (record: RawRecord) in
            let boundary = record.boundary
            found.append(Scanned(start: boundary.start, end: boundary.end, line: boundary.line, index: boundary.index, fields: record.fields.count, defect: boundary.defect))
        }
        var offset = 0
        do {
            for size in pieces {
                try reader.feed(Array(data[offset..<offset + size]), take)
                offset += size
            }
            reader.finish(take)
        } catch let error as RecordTooLong {
            return .tooLong(error, after: found)
        } catch {
            preconditionFailure("the reader threw \(error), which is neither a record nor RecordTooLong")
        }
        return .records(found)
    }

    private static let ordersSchema: RecordSchema? = {
        guard let catalog = try? JSONDecoder().decode(FeedCatalog.self, from: Data(ordersFeeds.utf8)), let orders = catalog.feed(named: "orders") else { return nil }
        return try? RecordSchema(rules: orders.fields, columns: nil)
    }()

    private static func validate(_ data: [UInt8], format: RecordFormat, pieces: [Int]) {
        guard let schema = ordersSchema else { preconditionFailure("the orders schema does not compile") }
        var validation = RecordValidation(format: format, schema: schema, scanner: RecordScanner(format: format, atFileStart: true), maxRecordBytes: 256)
        var delivered = 0
        let deliver: RecordValidation.Deliver = { line, _ in
            let object = try? JSONDecoder().decode([String: JSONScalar].self, from: Data(line))
            precondition(object != nil, "a delivered record is not a JSON object of scalars: \(String(decoding: line, as: UTF8.self))")
            delivered += 1
            return nil
        }
        var offset = 0
        do {
            for size in pieces {
                try data[offset..<offset + size].withUnsafeBytes { try validation.feed($0, deliver: deliver, reject: { _, _ in }) }
                offset += size
            }
            try validation.finish(deliver: deliver, reject: { _, _ in })
        } catch is RecordTooLong {
            return
        } catch {
            preconditionFailure("the record loop threw \(error)")
        }
        let counts = validation.counts
        precondition(counts.read == counts.valid + counts.rejected && counts.valid == Int64(delivered), "counts do not add up: \(counts), \(delivered) delivered")
    }

    /// A JSON value that is not an array or object: what a record's fields become.
    private enum JSONScalar: Decodable {
        case string(String), number(Double), bool(Bool), null
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { self = .null }
            else if let value = try? container.decode(Bool.self) { self = .bool(value) }
            else if let value = try? container.decode(Double.self) { self = .number(value) }
            else { self = .string(try container.decode(String.self)) }
        }
    }

    private static var recordSeeds: [[UInt8]] {
        let csv = "order_id,customer,email,amount,currency,ordered_on,paid,note\n1,C00000001,a@b.c,12.50,EUR,2024-05-01,true,\"say \"\"hi\"\"\nthere\"\n2,C0000000x,,-3,usd,2024-13-01,maybe,\r\n"
        let jsonl = #"{"order_id": 1, "customer": "C00000001", "amount": 1e3, "currency": "EUR", "ordered_on": "2024-05-01", "note": "\u00e9\n"}"# + "\n" + #"{"order_id": "x"}"# + "\n[1,2]\n"
        return [[0] + Array(csv.utf8), [1] + Array(csv.replacing(",", with: "\t").utf8), [2] + Array(jsonl.utf8)]
    }
}
