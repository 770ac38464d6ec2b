import ChunkPlanning
import ChunkProcessing
import CZlib
import Foundation
import RecordFormats

// chunk-bench: the chunk processor's parse + validate + serialise loop on one core.
//
//   chunk-bench generate --records 290000 --seed 7 --out FILE   FILE and FILE.gz (fixed seed)
//   chunk-bench measure FILE [FILE.gz ...] [--repeat 5] [--json OUT]
//   chunk-bench plan FILE.gz [--chunk-records 290000]
//
// `measure` runs RecordValidation, exactly as the processor does, over the file held in memory
// and fed in 8 MiB parts (gzip: 8 MiB compressed parts through zlib), with valid records written
// as JSON lines into an 8 MiB output buffer, as the S3 output writer would. Times are this
// thread's CPU time; the best of the repeats is reported.
//
// `plan` plans a gzip file as the S3 submitter does, with and without access points, and prints
// the planning CPU time and what its chunks then fetch and inflate in all (every chunk of a
// one-member file enters at the file's first byte when only member starts can be entered).

/// The orders feed of functions/chunk-processor.json.
let rules = [
    FieldRule(name: "order_id", type: .integer, required: true),
    FieldRule(name: "customer", type: .string, required: true, pattern: "C[0-9]{8}"),
    FieldRule(name: "email", type: .string, pattern: "[^@ ]+@[^@ ]+"),
    FieldRule(name: "amount", type: .number, required: true),
    FieldRule(name: "currency", type: .string, required: true, pattern: "[A-Z]{3}"),
    FieldRule(name: "ordered_on", type: .date, required: true),
    FieldRule(name: "paid", type: .boolean),
    FieldRule(name: "note", type: .string),
]
let columns = rules.map(\.name)

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

/// xorshift64*: the same file for the same seed, everywhere.
struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2_685_821_657_736_338_717
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

func generate(records: Int, seed: UInt64, to path: String) throws {
    var random = Generator(state: seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed)
    let first = ["ada", "grace", "alan", "edsger", "barbara", "donald", "margaret", "ken", "dennis", "frances"]
    let last = ["lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "hamilton", "thompson", "ritchie", "allen"]
    let words = ["delivery", "express", "gift", "wrap", "fragile", "handle", "with", "care", "leave", "at", "door", "call", "before",
                 "arrival", "second", "floor", "back", "entrance", "weekend", "only", "invoice", "attached", "customer", "asked", "for", "receipt"]
    let currencies = ["USD", "EUR", "GBP", "JPY", "CHF"]
    var out = Array((columns.joined(separator: ",") + "\n").utf8)
    out.reserveCapacity(records * 215)
    for n in 0..<records {
        var note = ""
        let length = 105 + random.below(50)
        while note.utf8.count < length { note += (note.isEmpty ? "" : " ") + random.pick(words) }
        let style = random.below(100)
        let noteField: String = switch style {
        case 0..<8: "\"\(note), \(random.pick(words))\""
        case 8..<10: "\"\(note) \"\"\(random.pick(words))\"\"\""
        case 10: "\"\(note)\n\(random.pick(words))\""
        default: note
        }
        var amount = "\(random.below(1_000_000) / 100).\(String(format: "%02d", random.below(100)))"
        var currency = random.pick(currencies)
        var customer = String(format: "C%08d", random.below(100_000_000))
        switch random.below(200) {
        case 0: amount = "n/a"
        case 1: currency = currency.lowercased()
        case 2: customer = ""
        default: break
        }
        let day = random.below(730)
        let year = 2024 + day / 365, dayOfYear = day % 365
        let monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var month = 0, rest = dayOfYear
        while rest >= monthDays[month] { rest -= monthDays[month]; month += 1 }
        let fields = [
            String(1_000_000 + n), customer, "\(random.pick(first)).\(random.pick(last))\(random.below(1000))@example.com", amount, currency,
            String(format: "%04d-%02d-%02d", year, month + 1, rest + 1), random.below(2) == 0 ? "true" : "false", noteField,
        ]
        out += fields.joined(separator: ",").utf8
        out.append(UInt8(ascii: "\n"))
    }
    try Data(out).write(to: URL(fileURLWithPath: path))
    try Data(try Gzip.compress(out)).write(to: URL(fileURLWithPath: path + ".gz"))
    print("wrote \(path): \(records) records, \(out.count) bytes; \(path).gz")
}

func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

struct Measurement: Codable {
    var file: String
    var compressed: Bool
    var inputBytes: Int
    var decompressedBytes: Int
    var records: Int64
    var valid: Int64
    var rejected: Int64
    var outputBytes: Int
    var cpuSeconds: Double
    /// The zlib this binary links (`zlibVersion()`): Debian's, or zlib-ng's zlib-compat build.
    var zlib: String
    var recordsPerSecond: Double { Double(records) / cpuSeconds }
    var megabytesPerSecond: Double { Double(decompressedBytes) / 1e6 / cpuSeconds }
}

/// One pass of the processor's loop over `bytes`.
func run(_ bytes: [UInt8], compressed: Bool, columns: [String]) throws -> (counts: (Int64, Int64, Int64), output: Int, decompressed: Int) {
    let header = (columns.joined(separator: ",") + "\n").utf8.count
    var validation = RecordValidation(
        format: .csv, schema: try RecordSchema(rules: rules, columns: columns),
        scanner: RecordScanner(format: .csv, start: Int64(header), atFileStart: false, firstLine: 2), maxRecordBytes: 64 << 20)
    var output: [UInt8] = []
    output.reserveCapacity(9 << 20)
    var written = 0
    var rejects = 0
    let deliver: RecordValidation.Deliver = { line, _ in
        output += line
        output.append(UInt8(ascii: "\n"))
        if output.count >= 8 << 20 {
            written += output.count
            output.removeAll(keepingCapacity: true)
        }
        return nil
    }
    let reject: (RawRecord, String) -> Void = { record, reason in rejects += record.bytes.count + reason.utf8.count }
    let part = 8 << 20
    var decompressed = 0
    var skip = header
    if compressed {
        var inflater = try GzipInflater()
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + part, bytes.count)
            _ = try bytes[offset..<end].withUnsafeBytes { raw in
                try inflater.inflate(raw) { piece in
                    decompressed += piece.bytes.count
                    let dropped = min(skip, piece.bytes.count)
                    skip -= dropped
                    try validation.feed(UnsafeRawBufferPointer(rebasing: piece.bytes[dropped...]), deliver: deliver, reject: reject)
                    return true
                }
            }
            offset = end
        }
        try inflater.finish()
    } else {
        decompressed = bytes.count
        var offset = header
        while offset < bytes.count {
            let end = min(offset + part, bytes.count)
            try bytes[offset..<end].withUnsafeBytes { try validation.feed($0, deliver: deliver, reject: reject) }
            offset = end
        }
    }
    try validation.finish(deliver: deliver, reject: reject)
    let counts = validation.counts
    return ((counts.read, counts.valid, counts.rejected), written + output.count, decompressed)
}

func measure(_ paths: [String], repeats: Int, json: String?) throws {
    var results: [Measurement] = []
    for path in paths {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let compressed = GzipInflater.looksCompressed(bytes.prefix(2))
        var best: Measurement?
        for _ in 0..<repeats {
            let start = threadCPUSeconds()
            let result = try run(bytes, compressed: compressed, columns: columns)
            let cpu = threadCPUSeconds() - start
            let measurement = Measurement(
                file: path, compressed: compressed, inputBytes: bytes.count, decompressedBytes: result.decompressed, records: result.counts.0,
                valid: result.counts.1, rejected: result.counts.2, outputBytes: result.output, cpuSeconds: cpu,
                zlib: String(cString: zlibVersion()))
            if best == nil || cpu < best?.cpuSeconds ?? .infinity { best = measurement }
        }
        guard let best else { continue }
        print(String(
            format: "sortie %@: %lld records (%lld valid, %lld rejected), %.1f MB in, %.1f MB JSON out: %.3f s CPU, %.0f records/s, %.1f MB/s",
            compressed ? "gzip (zlib \(best.zlib))" : "plain", best.records, best.valid, best.rejected, Double(best.decompressedBytes) / 1e6,
            Double(best.outputBytes) / 1e6, best.cpuSeconds, best.recordsPerSecond, best.megabytesPerSecond))
        results.append(best)
    }
    if let json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(results).write(to: URL(fileURLWithPath: json))
    }
}

func plan(_ path: String, chunkRecords: Int64) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    for spacing in [Int64(1 << 20), nil] as [Int64?] {
        let start = threadCPUSeconds()
        var planner = ChunkPlanner(format: .csv, hasHeader: true, limits: ChunkLimits(maxRecords: chunkRecords, maxBytes: 1 << 40), compressed: true)
        var inflater = try GzipInflater(accessPointSpacing: spacing)
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + (8 << 20), bytes.count)
            _ = try bytes[offset..<end].withUnsafeBytes { raw in try inflater.inflate(raw) { try planner.feed($0); return true } }
            offset = end
        }
        try inflater.finish()
        let plan = try planner.finish()
        let cpu = threadCPUSeconds() - start
        let fetched = plan.chunks.reduce(0) { $0 + $1.objectRange.count }
        let inflated = plan.chunks.reduce(Int64(0)) { $0 + ($1.end - ($1.entry?.decompressedOffset ?? $1.start)) }
        let windows = plan.chunks.compactMap { $0.entry?.packedWindow?.count }
        print(String(
            format: "plan %@: %lld records, %d chunks, %.3f s CPU; the chunks fetch %.1f MB (file %.1f MB) and inflate %.1f MB (file %.1f MB); windows %d, %.1f KB each",
            spacing == nil ? "entering at members only" : "with access points every 1 MiB", plan.records, plan.chunks.count, cpu,
            Double(fetched) / 1e6, Double(bytes.count) / 1e6, Double(inflated) / 1e6, Double(plan.bytes) / 1e6, windows.count,
            windows.isEmpty ? 0 : Double(windows.reduce(0, +)) / Double(windows.count) / 1e3))
    }
}

func main() throws {
    var arguments = Array(CommandLine.arguments.dropFirst())
    func option(_ name: String) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        defer { arguments.removeSubrange(index...index + 1) }
        return arguments[index + 1]
    }
    switch arguments.first {
    case "generate":
        let records = Int(option("--records") ?? "290000") ?? 290_000
        let seed = UInt64(option("--seed") ?? "7") ?? 7
        guard let out = option("--out") else { throw BenchError(description: "generate needs --out FILE") }
        try generate(records: records, seed: seed, to: out)
    case "measure":
        let repeats = max(1, Int(option("--repeat") ?? "5") ?? 5)
        let json = option("--json")
        let paths = Array(arguments.dropFirst())
        guard !paths.isEmpty else { throw BenchError(description: "measure needs at least one file") }
        try measure(paths, repeats: repeats, json: json)
    case "plan":
        let chunkRecords = Int64(option("--chunk-records") ?? "290000") ?? 290_000
        guard let path = arguments.dropFirst().first else { throw BenchError(description: "plan needs a gzip file") }
        try plan(path, chunkRecords: chunkRecords)
    default:
        throw BenchError(
            description: "usage: chunk-bench generate --records N --seed S --out FILE | measure FILE [FILE.gz] [--repeat N] [--json OUT] | plan FILE.gz [--chunk-records N]")
    }
}

do {
    try main()
} catch {
    FileHandle.standardError.write(Data("chunk-bench: \(error)\n".utf8))
    exit(1)
}
