import Foundation
import ChunkPlanning
import RecordFormats
import Testing

/// Inflates all of `compressed`, fed in pieces, returning the output and the members seen.
func inflateAll(_ compressed: [UInt8], pieceSize: Int = 4096) throws -> ([UInt8], [GzipEntry]) {
    var inflater = try GzipInflater(outputBufferSize: 1000)
    var output: [UInt8] = []
    var members: [GzipEntry] = []
    var offset = 0
    while offset < compressed.count {
        let piece = Array(compressed[offset..<min(offset + pieceSize, compressed.count)])
        _ = try piece.withUnsafeBytes { bytes in
            try inflater.inflate(bytes) { piece in
                output += piece.bytes
                let entry = try piece.entry()
                if members.last != entry { members.append(entry) }
                return true
            }
        }
        offset += pieceSize
    }
    try inflater.finish()
    return (output, members)
}

/// `count` CSV records `id,name` with a header, numbered from 0.
func numberedCSV(_ count: Int, header: Bool = true) -> [UInt8] {
    var text = header ? "id,name\n" : ""
    for id in 0..<count { text += "\(id),\"n\(id)\(id % 7 == 0 ? "\nsecond line" : "")\"\n" }
    return Array(text.utf8)
}

@Suite("gzip streams and chunk plans")
struct GzipAndPlanningTests {
    @Test("inflating gives back the bytes, across pieces and concatenated members")
    func roundTrip() throws {
        let a = numberedCSV(3000), b = numberedCSV(10, header: false)
        let joined = try Gzip.compress(a) + Gzip.compress(b)
        for size in [1, 100, 65_536] {
            let (output, members) = try inflateAll(joined, pieceSize: size)
            #expect(output == a + b)
            #expect(members.map(\.decompressedOffset) == [0, Int64(a.count)])
            #expect(members.map(\.compressedOffset) == [0, Int64(try Gzip.compress(a).count)])
        }
    }

    @Test("a truncated stream is an error, not a short file")
    func truncated() throws {
        let compressed = try Gzip.compress(numberedCSV(5000))
        let cut = Array(compressed.prefix(compressed.count / 2))
        #expect {
            _ = try inflateAll(cut)
        } throws: { error in
            (error as? GzipError)?.kind == .truncated
        }
        // A file that is not gzip at all is corrupt.
        #expect {
            _ = try inflateAll(Array("id,name\n1,a\n".utf8))
        } throws: { error in
            (error as? GzipError)?.kind == .corrupt
        }
    }

    /// Plans `bytes` (plain or gzip), fed in pieces.
    func plan(
        _ bytes: [UInt8], limits: ChunkLimits, compressed: Bool = false, header: Bool = true, pieceSize: Int = 1000, accessPointSpacing: Int64? = nil
    ) throws -> FilePlan {
        var planner = ChunkPlanner(format: .csv, hasHeader: header, limits: limits, compressed: compressed)
        if compressed {
            var inflater = try GzipInflater(accessPointSpacing: accessPointSpacing, outputBufferSize: 777)
            var offset = 0
            while offset < bytes.count {
                let piece = Array(bytes[offset..<min(offset + pieceSize, bytes.count)])
                _ = try piece.withUnsafeBytes { raw in try inflater.inflate(raw) { try planner.feed($0); return true } }
                offset += pieceSize
            }
            try inflater.finish()
        } else {
            var offset = 0
            while offset < bytes.count {
                try Array(bytes[offset..<min(offset + pieceSize, bytes.count)]).withUnsafeBytes { try planner.feed($0) }
                offset += pieceSize
            }
        }
        return try planner.finish()
    }

    /// Reads one planned chunk of `plain` (the decompressed file) and returns its record ids.
    func ids(in chunk: ChunkSpec, of plain: [UInt8]) throws -> [Int] {
        var reader = RecordReader(
            scanner: RecordScanner(format: .csv, start: chunk.start, atFileStart: chunk.start == 0, firstLine: chunk.startLine, firstIndex: Int(chunk.firstRecord)))
        var ids: [Int] = []
        var lines: [Int] = []
        let collect: (RawRecord) -> Void = { record in
            ids.append(Int(String(decoding: record.value(of: record.fields[0]), as: UTF8.self)) ?? -1)
            lines.append(record.boundary.line)
            #expect(record.boundary.index == ids.count - 1 + Int(chunk.firstRecord))
        }
        try reader.feed(Array(plain[Int(chunk.start)..<Int(chunk.end)]), collect)
        reader.finish(collect)
        // Line numbers are the file's: record n (from 0) is on line 2 + n + (multi-line records before it).
        if let first = ids.first, let line = lines.first { #expect(line == 2 + first + (first + 6) / 7) }
        return ids
    }

    @Test("chunks tile the file at record boundaries: no record split, lost or counted twice")
    func planBoundaries() throws {
        let file = numberedCSV(10_000)
        let plan = try plan(file, limits: ChunkLimits(maxRecords: 1234, maxBytes: 1 << 30))
        #expect(plan.records == 10_000)
        #expect(plan.columns == ["id", "name"])
        let expectedCounts: [Int64] = Array(repeating: 1234, count: 8) + [10_000 - 8 * 1234]
        #expect(plan.chunks.map(\.recordCount) == expectedCounts)
        #expect(plan.chunks.first?.start == 8)
        #expect(plan.chunks.last?.end == Int64(file.count))
        for (previous, next) in zip(plan.chunks, plan.chunks.dropFirst()) { #expect(previous.end == next.start) }
        var all: [Int] = []
        for chunk in plan.chunks {
            let ids = try ids(in: chunk, of: file)
            #expect(ids.count == Int(chunk.recordCount))
            #expect(ids.first == Int(chunk.firstRecord))
            all += ids
        }
        #expect(all == Array(0..<10_000))
    }

    @Test("the byte limit closes a chunk once it is reached")
    func byteLimit() throws {
        let file = numberedCSV(2000)
        let plan = try plan(file, limits: ChunkLimits(maxRecords: 1_000_000, maxBytes: 4000))
        #expect(plan.chunks.count > 3)
        for chunk in plan.chunks.dropLast() { #expect(chunk.end - chunk.start >= 4000 && chunk.end - chunk.start < 4100) }
        #expect(plan.chunks.reduce(0) { $0 + $1.recordCount } == 2000)
    }

    @Test("a gzip file's chunks name a member to enter from, and reading from it reproduces the chunk")
    func gzipPlan() throws {
        let plain = numberedCSV(20_000)
        // Three members, as pigz or `cat a.gz b.gz` would make.
        let thirds = [plain.count / 3, 2 * plain.count / 3]
        let compressed = try Gzip.compress(Array(plain[..<thirds[0]])) + Gzip.compress(Array(plain[thirds[0]..<thirds[1]]))
            + Gzip.compress(Array(plain[thirds[1]...]))
        let plan = try plan(compressed, limits: ChunkLimits(maxRecords: 3000, maxBytes: 1 << 30), compressed: true)
        #expect(plan.compressed)
        #expect(plan.records == 20_000)
        #expect(try self.plan(plain, limits: ChunkLimits(maxRecords: 3000, maxBytes: 1 << 30)).chunks.map(\.end) == plan.chunks.map(\.end))
        let entries = Set(plan.chunks.compactMap(\.entry))
        #expect(entries.count == 3, "later chunks enter from later members")
        for chunk in plan.chunks {
            let entry = try #require(chunk.entry)
            #expect(entry.decompressedOffset <= chunk.start)
            // Inflate only the planned compressed range, from the entry member.
            let range = chunk.objectRange
            let (output, _) = try inflatePrefix(Array(compressed[Int(range.lowerBound)..<Int(range.upperBound)]), start: entry)
            let bytes = Array(output[Int(chunk.start - entry.decompressedOffset)..<Int(chunk.end - entry.decompressedOffset)])
            #expect(bytes == Array(plain[Int(chunk.start)..<Int(chunk.end)]))
        }
    }

    @Test("a one-member gzip file: chunks enter at access points just before them, and inflating only their range reproduces them, across a member's end too")
    func accessPoints() throws {
        // Random digits keep deflate's blocks a few tens of KB of output each, as in real data.
        var seed: UInt64 = 7
        var text = "id,name\n"
        for id in 0..<60_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += "\(id),\"n\(seed >> 20)\(id % 7 == 0 ? "\nsecond line" : "")\"\n"
        }
        let plain = Array(text.utf8)
        let split = plain.count * 2 / 5
        let first = try Gzip.compress(Array(plain[..<split]))
        let compressed = first + (try Gzip.compress(Array(plain[split...])))
        let limits = ChunkLimits(maxRecords: 4000, maxBytes: 1 << 30)
        let spacing: Int64 = 16 << 10
        let plan = try plan(compressed, limits: limits, compressed: true, accessPointSpacing: spacing)
        #expect(plan.records == 60_000)
        #expect(try self.plan(plain, limits: limits).chunks.map(\.end) == plan.chunks.map(\.end))
        let entries = plan.chunks.compactMap(\.entry)
        #expect(entries.count == plan.chunks.count)
        #expect(entries.dropFirst().allSatisfy { !$0.isMemberStart }, "every later chunk enters at a block boundary")
        #expect(Set(entries.map(\.bits)).count > 1, "byte-aligned and unaligned boundaries both occur")
        #expect(plan.chunks.contains { $0.entry?.compressedOffset ?? 0 < first.count && $0.compressedEnd ?? 0 > first.count }, "a chunk runs into the second member")
        for (earlier, later) in zip(entries, entries.dropFirst()) { #expect(earlier.compressedOffset < later.compressedOffset) }
        // Fetched in all: about the file once, where entering at members only would fetch each chunk's whole prefix.
        let fetched = plan.chunks.reduce(0) { $0 + $1.objectRange.count }
        #expect(fetched < compressed.count * 3 / 2, "\(fetched) compressed bytes fetched for a file of \(compressed.count)")
        for chunk in plan.chunks {
            let entry = try #require(chunk.entry)
            #expect(entry.decompressedOffset <= chunk.start)
            let range = chunk.objectRange
            // Small pieces: an unaligned entry's first byte and a member's trailer may arrive alone.
            let (output, _) = try inflatePrefix(Array(compressed[Int(range.lowerBound)..<Int(range.upperBound)]), start: entry, pieceSize: 7)
            let bytes = Array(output[Int(chunk.start - entry.decompressedOffset)..<Int(chunk.end - entry.decompressedOffset)])
            #expect(bytes == Array(plain[Int(chunk.start)..<Int(chunk.end)]), "chunk \(chunk.index)")
        }
    }

    @Test("an access point survives JSON (its window as base64), and a damaged one is refused when inflating starts")
    func accessPointCoding() throws {
        let compressed = try Gzip.compress(numberedCSV(20_000))
        let plan = try plan(compressed, limits: ChunkLimits(maxRecords: 5000, maxBytes: 1 << 30), compressed: true, accessPointSpacing: 8 << 10)
        let chunk = try #require(plan.chunks.last)
        let entry = try #require(chunk.entry)
        #expect(!entry.isMemberStart)
        let json = try JSONEncoder().encode(chunk)
        #expect(try JSONDecoder().decode(ChunkSpec.self, from: json) == chunk)
        // A member start carries its two offsets alone.
        let start = String(decoding: try JSONEncoder().encode(GzipEntry.fileStart), as: UTF8.self)
        #expect(!start.contains("window") && !start.contains("bits"))
        for damaged in [
            GzipEntry(compressedOffset: entry.compressedOffset, decompressedOffset: entry.decompressedOffset, bits: 8, packedWindow: entry.packedWindow),
            GzipEntry(compressedOffset: entry.compressedOffset, decompressedOffset: entry.decompressedOffset, bits: 3),
            GzipEntry(compressedOffset: entry.compressedOffset, decompressedOffset: entry.decompressedOffset, packedWindow: [1, 2, 3]),
        ] {
            #expect(throws: GzipError.self) { _ = try GzipInflater(start: damaged) }
        }
    }

    @Test("a window that inflates past 32 KiB is refused without inflating it all (a 100 KB payload could claim 100 MB)")
    func oversizeWindow() throws {
        let bomb = try Gzip.compress([UInt8](repeating: 0, count: 100 << 20), level: 9)
        #expect(bomb.count < 200_000)
        let error = try #require(throws: GzipError.self) {
            _ = try GzipInflater(start: GzipEntry(compressedOffset: 10, decompressedOffset: 1 << 20, bits: 0, packedWindow: bomb))
        }
        #expect(error.message.contains("more than 32768 bytes"))
        #expect(throws: GzipError.self) { _ = try Gzip.decompress(bomb, limit: 1 << 20) }
        #expect(try Gzip.decompress(Gzip.compress([1, 2, 3]), limit: 3) == [1, 2, 3])
    }

    /// Inflates a compressed range that may stop mid-member (no truncation check), fed in pieces.
    func inflatePrefix(_ compressed: [UInt8], start: GzipEntry, pieceSize: Int = 1 << 20) throws -> ([UInt8], Int) {
        var inflater = try GzipInflater(start: start)
        var output: [UInt8] = []
        var offset = 0
        while offset < compressed.count {
            let piece = Array(compressed[offset..<min(offset + pieceSize, compressed.count)])
            try piece.withUnsafeBytes { bytes in _ = try inflater.inflate(bytes) { output += $0.bytes; return true } }
            offset += pieceSize
        }
        return (output, compressed.count)
    }
}
