import ChunkPlanning
import ChunkTestSupport
import Foundation
import RecordFormats
import SimulatedObjects
import Testing

@Suite("Simulated objects and planning that resumes")
struct SimulatedPlanningTests {
    static let limits = ChunkLimits(maxRecords: 1_500, maxBytes: 1 << 40)

    @Test("the generator's record count and boundaries agree with a scan of its bytes, CSV with quoted line breaks and JSON Lines")
    func generatorAgreesWithScanner() throws {
        for format in SimulatedFormat.allCases {
            // Three full segments and a short last one.
            let object = SimulatedObject(format: format, size: 3 * 65_536 + 9_000)
            #expect(object.size == 3 * 65_536 + 9_000)
            let bytes = object.streamBytes(0..<object.streamSize)
            #expect(bytes.count == Int(object.size))
            #expect(object.streamBytes(1_000..<70_000) == Array(bytes[1_000..<70_000]), "any range is the same bytes")
            var reader = RecordReader(format: format == .csv ? .csv : .jsonLines)
            var boundaries: [RecordBoundary] = []
            try reader.feed(bytes) { record in
                #expect(record.boundary.defect == nil, "line \(record.boundary.line) is well-formed")
                boundaries.append(record.boundary)
            }
            try reader.finish { boundaries.append($0.boundary) }
            let data = format == .csv ? Array(boundaries.dropFirst()) : boundaries
            #expect(Int64(data.count) == object.records)
            for (index, boundary) in data.enumerated() {
                let expected = object.record(Int64(index))
                #expect(boundary.start == expected.start && boundary.line == expected.line, "\(format) record \(index)")
            }
            if format == .csv { #expect(data.contains { $0.nextLine - $0.line == 2 }, "some records span two lines") }
        }
    }

    @Test("gzip objects, many members or one, inflate to the same stream; their size and eTag differ from the plain one's")
    func gzipObjects() throws {
        let plain = SimulatedObject(format: .csv, size: 3 << 20)
        for compression in [SimulatedObject.Compression.gzip, .gzipOneMember] {
            let object = SimulatedObject(format: .csv, compression: compression, size: 3 << 20)
            #expect(object.streamSize == 3 << 20)
            let packed = object.bytes(0..<object.size)
            #expect(Int64(packed.count) == object.size && object.size < object.streamSize / 2)
            #expect(try Gzip.decompress(packed) == object.streamBytes(0..<object.streamSize), "\(compression)")
            #expect(object.bytes(1_000..<90_000) == Array(packed[1_000..<90_000]))
            #expect(object.eTag != plain.eTag)
        }
        #expect(SimulatedObject(format: .csv, size: 3 << 20, version: 2).eTag != plain.eTag)
        #expect(SimulatedObject(format: .csv, size: 3 << 20, version: 2).streamBytes(0..<4096) != plain.streamBytes(0..<4096))
    }

    @Test("a pass broken at checkpoints every few pieces, each through JSON into a fresh planner, plans exactly as an unbroken one")
    func brokenPassIsExact() throws {
        for (format, compression) in [(SimulatedFormat.csv, SimulatedObject.Compression.none), (.jsonLines, .none), (.csv, .gzipOneMember), (.csv, .gzip)] {
            let object = SimulatedObject(format: format, compression: compression, size: 4 << 20)
            let recordFormat: RecordFormat = format == .csv ? .csv : .jsonLines
            let compressed = compression != .none
            var whole = ChunkPlanner(format: recordFormat, hasHeader: format == .csv, limits: Self.limits, compressed: compressed)
            let stream = object.streamBytes(0..<object.streamSize)
            try stream.withUnsafeBytes { try whole.feed($0) }
            let unbroken = try whole.finish()
            expectBoundaries(unbroken.chunks, match: object)

            // 50,001-byte pieces cut records (and quoted fields) anywhere; a checkpoint after every third.
            var checkpoint: PlanCheckpoint?
            var chunks: [ChunkSpec] = []
            var resumes = 0
            while true {
                var planner = ChunkPlanner(
                    format: recordFormat, hasHeader: format == .csv, limits: Self.limits, compressed: compressed,
                    resumingFrom: try checkpoint.map { try JSONDecoder().decode(PlanCheckpoint.self, from: JSONEncoder().encode($0)) })
                let stopped = try Self.feed(object, from: checkpoint, into: &planner, pieces: 3, pieceSize: 50_001)
                chunks += planner.takeChunks()
                guard stopped else {
                    chunks += try planner.finish().chunks
                    break
                }
                checkpoint = try #require(try planner.checkpoint())
                resumes += 1
            }
            #expect(resumes > (compressed ? 3 : 20), "\(format) \(compression): \(resumes) resumes")
            #expect(chunks.map(\.start) == unbroken.chunks.map(\.start), "\(format) \(compression)")
            #expect(chunks.map(\.recordCount) == unbroken.chunks.map(\.recordCount))
            #expect(chunks.map(\.startLine) == unbroken.chunks.map(\.startLine))
            expectBoundaries(chunks, match: object)
            if compressed {
                // Every chunk can be read from the entry it names, resumed pass or not.
                let packed = object.bytes(0..<object.size)
                for chunk in chunks {
                    let entry = try #require(chunk.entry)
                    var inflater = try GzipInflater(start: entry)
                    var output: [UInt8] = []
                    try packed[Int(entry.compressedOffset)...].withUnsafeBytes { bytes in
                        _ = try inflater.inflate(bytes) { piece in
                            output += piece.bytes
                            return Int64(output.count) < chunk.end - entry.decompressedOffset
                        }
                    }
                    let from = Int(chunk.start - entry.decompressedOffset), to = Int(chunk.end - entry.decompressedOffset)
                    #expect(Array(output[from..<to]) == Array(stream[Int(chunk.start)..<Int(chunk.end)]), "chunk \(chunk.index) from its entry")
                }
            }
        }
    }

    /// Feeds `pieces` pieces from where `checkpoint` says (inflating from its entry for gzip); true when it stopped before the end.
    static func feed(_ object: SimulatedObject, from checkpoint: PlanCheckpoint?, into planner: inout ChunkPlanner, pieces: Int, pieceSize: Int) throws -> Bool {
        let target = checkpoint?.offset ?? 0
        guard object.compression != .none else {
            var offset = target
            for _ in 0..<pieces {
                guard offset < object.streamSize else { return false }
                let piece = object.streamBytes(offset..<min(offset + Int64(pieceSize), object.streamSize))
                try piece.withUnsafeBytes { try planner.feed($0) }
                offset += Int64(piece.count)
            }
            return offset < object.streamSize
        }
        let entry = checkpoint?.entry ?? .fileStart
        var inflater = try GzipInflater(start: entry, accessPointSpacing: 1 << 20)
        var streamOffset = entry.decompressedOffset
        var compressed = entry.compressedOffset
        var fed = 0
        while compressed < object.size {
            let part = object.bytes(compressed..<min(compressed + Int64(pieceSize), object.size))
            compressed += Int64(part.count)
            try part.withUnsafeBytes { bytes in
                _ = try inflater.inflate(bytes) { piece in
                    let skip = Int(min(max(target - streamOffset, 0), Int64(piece.bytes.count)))
                    streamOffset += Int64(piece.bytes.count)
                    guard skip < piece.bytes.count else { return true }
                    var rest = piece
                    rest.bytes = UnsafeRawBufferPointer(rebasing: piece.bytes[skip...])
                    try planner.feed(rest)
                    return true
                }
            }
            if streamOffset > target { fed += 1 }
            if fed == pieces { return compressed < object.size }
        }
        try inflater.finish()
        return false
    }
}
