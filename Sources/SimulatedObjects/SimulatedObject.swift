import CZlib
import RecordFormats

/// An object of any size made of `RecordGenerator` segments, plain or gzip, whose bytes are
/// generated for whatever range is asked: a terabyte costs nothing until it is read.
///
/// A gzip object cannot be cut at arbitrary points without compressing all that comes before,
/// so its stream is made of 1 MiB members drawn from a few templates compressed once: member 0
/// (which holds the CSV header) and then templates 1…8 in turn. With `oneMember`, the templates
/// are raw deflate ended by a full flush (byte-aligned, no reference back past it), laid end to
/// end inside one gzip header and trailer whose CRC is combined from the templates' CRCs: a
/// valid one-member file of any size, readable from its first byte only.
public struct SimulatedObject: Sendable {
    public enum Compression: String, Sendable {
        case none
        /// One gzip member per MiB of records (as pigz or `cat a.gz b.gz` make).
        case gzip
        /// One gzip member for the whole stream.
        case gzipOneMember
    }

    public let format: SimulatedFormat
    public let compression: Compression
    /// The decompressed stream's length: the object's own for a plain one.
    public let streamSize: Int64
    /// The object's length in bytes.
    public let size: Int64
    /// S3's ETag for it (without quotes): changes with `version`.
    public let eTag: String
    public let generator: RecordGenerator
    /// Full segments, and the length of a last shorter one (0: none).
    let fullSegments: Int64
    let tail: Int
    let gzip: GzipLayout?

    public static let membersEvery = 16  // segments: 1 MiB of records per member
    static let templates = 8

    /// `size` is the decompressed stream's length, rounded down so that the stream ends on a
    /// whole record (plain: a last segment holds at least one; gzip: whole 1 MiB members).
    /// `version` makes another object of the same shape (a replaced upload).
    public init(format: SimulatedFormat, compression: Compression = .none, size: Int64, version: Int = 1) {
        self.format = format
        self.compression = compression
        let segment = Int64(RecordGenerator.segmentSize)
        let salt = Int64(version - 1) * 1_000_003
        if compression == .none {
            generator = RecordGenerator(format: format) { $0 + salt }
            let probe = RecordGenerator(format: format)
            var tail = Int(size % segment)
            if tail < probe.minimumTail { tail = 0 }
            fullSegments = max(size / segment, tail == 0 ? 1 : 0)
            self.tail = tail
            streamSize = fullSegments * segment + Int64(tail)
            gzip = nil
            self.size = streamSize
        } else {
            let every = Int64(Self.membersEvery)
            generator = RecordGenerator(format: format) { k in
                let member = k / every
                let template = member == 0 ? 0 : 1 + (member - 1) % Int64(Self.templates)
                return template * every + k % every + salt
            }
            let members = max(1, size / (segment * every))
            fullSegments = members * every
            tail = 0
            streamSize = fullSegments * segment
            let layout = GzipLayout(generator: generator, members: members, oneMember: compression == .gzipOneMember)
            gzip = layout
            self.size = layout.size
        }
        eTag = "sim-\(format.rawValue)-\(compression.rawValue)-\(streamSize)-v\(version)"
    }

    /// The object's bytes in `range` (clamped to the object).
    public func bytes(_ range: Range<Int64>) -> [UInt8] {
        let range = max(0, range.lowerBound)..<min(size, range.upperBound)
        guard !range.isEmpty else { return [] }
        if let gzip { return gzip.bytes(range) }
        return streamBytes(range)
    }

    /// The decompressed stream's bytes in `range`.
    public func streamBytes(_ range: Range<Int64>) -> [UInt8] {
        let segment = Int64(RecordGenerator.segmentSize)
        var result: [UInt8] = []
        result.reserveCapacity(range.count)
        var k = range.lowerBound / segment
        while k * segment < range.upperBound {
            let bytes = generator.segment(k, length: segmentLength(k)).bytes
            let from = Int(max(range.lowerBound - k * segment, 0))
            let to = Int(min(range.upperBound - k * segment, Int64(bytes.count)))
            if from < to { result += bytes[from..<to] }
            k += 1
        }
        return result
    }

    func segmentLength(_ k: Int64) -> Int {
        k < fullSegments ? RecordGenerator.segmentSize : tail
    }

    // MARK: - The independent answers

    /// Data records in the object (a CSV header is not one).
    public var records: Int64 {
        fullSegments * Int64(RecordGenerator.recordsPerSegment) + (tail > 0 ? Int64(generator.recordCount(segment: fullSegments, length: tail)) : 0)
    }

    /// Where data record `index` starts in the stream and the line it starts on; for `records`
    /// (one past the last), the stream's end.
    public func record(_ index: Int64) -> (start: Int64, line: Int) {
        let perSegment = Int64(RecordGenerator.recordsPerSegment)
        let k = index / perSegment, j = Int(index % perSegment)
        let headerLines = format == .csv ? 1 : 0
        let starts = generator.segment(k, length: segmentLength(k)).recordStarts
        guard j < starts.count else { return (streamSize, -1) }
        let within = (0..<j).reduce(0) { $0 + (RecordGenerator.spansTwoLines($1, format: format) ? 2 : 1) }
        return (k * Int64(RecordGenerator.segmentSize) + Int64(starts[j]), 1 + headerLines + Int(k * generator.linesPerSegment) + within)
    }
}

/// Where each gzip member of a simulated object lies.
struct GzipLayout: Sendable {
    let members: Int64
    let oneMember: Bool
    /// Compressed templates: member 0's, then the cycle's.
    let templates: [[UInt8]]
    /// Offsets of the cycle's templates within one cycle, and a cycle's length.
    let cycleOffsets: [Int64]
    let cycleBytes: Int64
    /// The gzip header before the members (one member only) and the bytes after them.
    let head: [UInt8]
    let trailer: [UInt8]
    let size: Int64

    init(generator: RecordGenerator, members: Int64, oneMember: Bool) {
        self.members = members
        self.oneMember = oneMember
        let every = Int64(SimulatedObject.membersEvery)
        var templates: [[UInt8]] = []
        var checks: [(crc: UInt, length: Int)] = []
        for template in 0...SimulatedObject.templates {
            var plain: [UInt8] = []
            for k in Int64(template) * every..<Int64(template + 1) * every { plain += generator.segment(k).bytes }
            let crc = plain.withUnsafeBufferPointer { UInt(crc32(0, $0.baseAddress, uInt($0.count))) }
            checks.append((crc, plain.count))
            templates.append(oneMember ? Self.flushedDeflate(plain) : Self.gzipMember(plain))
        }
        self.templates = templates
        var offsets: [Int64] = []
        var total: Int64 = 0
        for template in templates.dropFirst() {
            offsets.append(total)
            total += Int64(template.count)
        }
        cycleOffsets = offsets
        cycleBytes = total
        if oneMember {
            head = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
            var crc = checks[0].crc
            var length = UInt64(checks[0].length)
            var member: Int64 = 1
            while member < members {
                let check = checks[1 + Int((member - 1) % Int64(SimulatedObject.templates))]
                crc = UInt(crc32_combine(uLong(crc), uLong(check.crc), .init(check.length)))
                length += UInt64(check.length)
                member += 1
            }
            // A final empty fixed-Huffman block, then CRC-32 and length modulo 2^32, little-endian.
            trailer = [0x03, 0x00] + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: crc) >> ($0 * 8)) }
                + (0..<4).map { UInt8(truncatingIfNeeded: UInt32(truncatingIfNeeded: length) >> ($0 * 8)) }
        } else {
            head = []
            trailer = []
        }
        size = Int64(head.count) + Self.start(ofMember: members, templates: templates, offsets: cycleOffsets, cycleBytes: cycleBytes) + Int64(trailer.count)
    }

    /// Offset of member `m`'s first byte after the head (`members`: the end of the last one).
    static func start(ofMember m: Int64, templates: [[UInt8]], offsets: [Int64], cycleBytes: Int64) -> Int64 {
        guard m > 0 else { return 0 }
        let cycle = Int64(SimulatedObject.templates)
        let q = (m - 1) / cycle, r = Int((m - 1) % cycle)
        return Int64(templates[0].count) + q * cycleBytes + offsets[r]
    }

    func template(ofMember m: Int64) -> [UInt8] {
        m == 0 ? templates[0] : templates[1 + Int((m - 1) % Int64(SimulatedObject.templates))]
    }

    func bytes(_ range: Range<Int64>) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(range.count)
        func copy(_ part: [UInt8], at offset: Int64) {
            let from = Int(max(range.lowerBound - offset, 0)), to = Int(min(range.upperBound - offset, Int64(part.count)))
            if from < to { result += part[from..<to] }
        }
        copy(head, at: 0)
        let base = Int64(head.count)
        // The member holding the range's first byte: a cycle by division, then a short search.
        let position = max(range.lowerBound - base, 0)
        var member: Int64 = 0
        if position >= Int64(templates[0].count) {
            let q = (position - Int64(templates[0].count)) / cycleBytes
            member = 1 + q * Int64(SimulatedObject.templates)
            while member + 1 < members,
                  Self.start(ofMember: member + 1, templates: templates, offsets: cycleOffsets, cycleBytes: cycleBytes) <= position {
                member += 1
            }
        }
        while member < members {
            let offset = base + Self.start(ofMember: member, templates: templates, offsets: cycleOffsets, cycleBytes: cycleBytes)
            guard offset < range.upperBound else { break }
            copy(template(ofMember: member), at: offset)
            member += 1
        }
        copy(trailer, at: size - Int64(trailer.count))
        return result
    }

    static func gzipMember(_ plain: [UInt8]) -> [UInt8] {
        // A compression failure here is a bug in the simulator, not an input error.
        guard let member = try? Gzip.compress(plain) else { preconditionFailure("gzip of a simulated member failed") }
        return member
    }

    /// Raw deflate of `plain`, ended by a full flush: non-final blocks, byte-aligned, with no
    /// reference to anything before them, so such pieces can be laid end to end in one member.
    static func flushedDeflate(_ plain: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        precondition(sortie_deflate_init2(&stream, 6, -MAX_WBITS) == Z_OK, "deflateInit2 failed")
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(plain.count))) + 64)
        let status = plain.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FULL_FLUSH)
            }
        }
        precondition(status == Z_OK && stream.avail_in == 0, "deflate of a simulated member failed")
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }
}
