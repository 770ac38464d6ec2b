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
        guard let catalog = try? FeedCatalog(document: Array(ordersFeeds.utf8)), let orders = catalog.feed(named: "orders") else { return nil }
        return try? RecordSchema(rules: orders.fields, columns: nil)
    }()

    private static func validate(_ data: [UInt8], format: RecordFormat, pieces: [Int]) {
        guard let schema = ordersSchema else { preconditionFailure("the orders schema does not compile") }
        var validation = RecordValidation(format: format, schema: schema, scanner: RecordScanner(format: format, atFileStart: true), maxRecordBytes: 256)
        var delivered = 0
        let deliver: RecordValidation.Deliver = { line, _ in
            precondition(FlatJSONObject.accepts(Array(line)), "a delivered record is not a JSON object of scalars: \(String(decoding: line, as: UTF8.self))")
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

    private static var recordSeeds: [[UInt8]] {
        let csv = "order_id,customer,email,amount,currency,ordered_on,paid,note\n1,C00000001,a@b.c,12.50,EUR,2024-05-01,true,\"say \"\"hi\"\"\nthere\"\n2,C0000000x,,-3,usd,2024-13-01,maybe,\r\n"
        let jsonl = #"{"order_id": 1, "customer": "C00000001", "amount": 1e3, "currency": "EUR", "ordered_on": "2024-05-01", "note": "\u00e9\n"}"# + "\n" + #"{"order_id": "x"}"# + "\n[1,2]\n"
        return [[0] + Array(csv.utf8), [1] + Array(csv.replacing(",", with: "\t").utf8), [2] + Array(jsonl.utf8)]
    }
}

/// RFC 8259's grammar for one object whose members' values are scalars (strings, numbers, true,
/// false, null), in valid UTF-8: the oracle's own, since Foundation's JSONDecoder refuses valid
/// numbers such as `0e3` (which the record loop rightly delivers as written).
enum FlatJSONObject {
    static func accepts(_ bytes: [UInt8]) -> Bool {
        guard String(validating: bytes, as: UTF8.self) != nil else { return false }
        var reader = Reader(bytes: bytes)
        return reader.object() && { reader.whitespace(); return reader.index == bytes.count }()
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        mutating func whitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func object() -> Bool {
            whitespace()
            guard take("{") else { return false }
            whitespace()
            if take("}") { return true }
            while true {
                whitespace()
                guard string() else { return false }
                whitespace()
                guard take(":") else { return false }
                whitespace()
                guard scalar() else { return false }
                whitespace()
                if take("}") { return true }
                guard take(",") else { return false }
            }
        }

        mutating func scalar() -> Bool {
            string() || number() || literal("true") || literal("false") || literal("null")
        }

        mutating func string() -> Bool {
            guard take("\"") else { return false }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    if take("u") {
                        guard index + 4 <= bytes.count, bytes[index..<index + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) else { return false }
                        index += 4
                    } else {
                        guard index < bytes.count, Array("\"\\/bfnrt".utf8).contains(bytes[index]) else { return false }
                        index += 1
                    }
                case 0..<0x20: return false
                default: continue
                }
            }
            return false
        }

        mutating func digits() -> Int {
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - start
        }

        mutating func number() -> Bool {
            let start = index
            _ = take("-")
            if !take("0") {
                guard index < bytes.count, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) else { index = start; return false }
                _ = digits()
            }
            if take("."), digits() == 0 { return false }
            if take("e") || take("E") {
                _ = take("+") || take("-")
                if digits() == 0 { return false }
            }
            return true
        }

        mutating func literal(_ word: String) -> Bool {
            let letters = Array(word.utf8)
            guard bytes.count - index >= letters.count, Array(bytes[index..<index + letters.count]) == letters else { return false }
            index += letters.count
            return true
        }
    }
}
