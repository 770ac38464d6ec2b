import CZlib

/// Why a gzip stream could not be read.
public struct GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input ended inside a member: the file was cut short.
        case truncated
        /// Not gzip, or damaged (bad header, bad deflate data, checksum mismatch).
        case corrupt
        /// zlib could not allocate its state.
        case resources
    }

    public var kind: Kind
    public var message: String
    /// Compressed bytes consumed when the error was found.
    public var compressedOffset: Int64

    public var description: String { "gzip: \(message) (at compressed byte \(compressedOffset))" }
}

/// A piece of decompressed output.
public struct GzipPiece {
    public var bytes: UnsafeRawBufferPointer
    /// A place at or before the bytes to start inflating from to reach them again: their
    /// member's start, or (when the inflater records access points) a later block boundary.
    /// Made on demand: an access point's window is packed only for the entries a plan keeps.
    public var entry: @Sendable () throws(GzipError) -> GzipEntry
    /// Compressed bytes consumed to produce them: inflating from `entry` up to this offset
    /// yields at least every byte up to the end of this piece.
    public var compressedEnd: Int64
}

/// Streaming gzip decompression through zlib, one bounded output buffer at a time.
/// Concatenated members (`cat a.gz b.gz`, pigz, bgzip) are read as one stream.
public struct GzipInflater: ~Copyable {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8]
    /// True between a member's first byte and its end: input ending here is a truncation.
    private var insideMember = false
    /// Inside a member entered at a block boundary: raw deflate, whose 8-byte trailer is skipped.
    /// (Its CRC covers bytes this reader never saw; the planner checked it over the whole file.)
    private var raw = false
    private var trailerLeft = 0
    /// Bits of the first input byte that belong to the entry's block.
    private var primeBits = 0
    private var memberStart: Int64
    /// Where the next piece can be reached from, and that place's decompressed offset.
    private var entry: @Sendable () throws(GzipError) -> GzipEntry
    private var entryOffset: Int64
    /// Record a block boundary as the entry once this much output has passed the last one; nil: members only.
    private let accessPointSpacing: Int64?
    public private(set) var compressedOffset: Int64
    public private(set) var decompressedOffset: Int64

    /// `start` is where the input begins: a member start of the file, or an access point recorded
    /// while planning. With `accessPointSpacing`, pieces name block boundaries at least that far
    /// apart as their entries, so a chunk can be read from near its start instead of its member's.
    public init(start: GzipEntry = .fileStart, accessPointSpacing: Int64? = nil, outputBufferSize: Int = 256 << 10) throws(GzipError) {
        // A window is at most 32 KiB: one that inflates to more is refused before it is all in memory.
        let window = try start.packedWindow.map { (packed) throws(GzipError) in try Gzip.decompress(packed, limit: 1 << Int(MAX_WBITS)) }
        guard (0..<8).contains(start.bits), start.bits == 0 || window != nil else {
            throw GzipError(kind: .corrupt, message: "not an entry point: \(start.bits) bits, a window of \(window?.count ?? 0) bytes", compressedOffset: start.compressedOffset)
        }
        // Every step that can fail comes before self is whole: a throw after that would have to run deinit.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 16 + 15: a gzip wrapper (not zlib or raw deflate), the largest window; -15: raw deflate.
        var status = sortie_inflate_init2(stream, window == nil ? 16 + MAX_WBITS : -MAX_WBITS)
        if let window, status == Z_OK {
            status = window.withUnsafeBufferPointer { inflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
            if start.bits > 0, status == Z_OK {
                // The entry's block starts inside its first byte, in that byte's high bits (deflate reads bits from the low end):
                // the inflater takes them from the first input it is given.
                primeBits = start.bits
            }
        }
        guard status == Z_OK else {
            inflateEnd(stream)
            stream.deallocate()
            throw GzipError(kind: .resources, message: "inflate could not start (status \(status))", compressedOffset: start.compressedOffset)
        }
        self.stream = stream
        output = [UInt8](repeating: 0, count: outputBufferSize)
        raw = window != nil
        insideMember = window != nil
        entry = { start }
        entryOffset = start.decompressedOffset
        memberStart = start.decompressedOffset
        compressedOffset = start.compressedOffset
        decompressedOffset = start.decompressedOffset
        self.accessPointSpacing = accessPointSpacing
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Decompresses `input`, handing each piece of output to `body`. `body` returns false to
    /// stop early (the rest of `input` is then left unread). Returns false when `body` stopped.
    @discardableResult
    public mutating func inflate(_ input: UnsafeRawBufferPointer, _ body: (GzipPiece) throws -> Bool) throws -> Bool {
        guard let base = input.baseAddress, input.count > 0 else { return true }
        var remaining = input.count
        var next = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        let stream = self.stream
        return try output.withUnsafeMutableBytes { out -> Bool in
            while remaining > 0 {
                if primeBits > 0 {
                    inflatePrime(stream, Int32(primeBits), Int32(next.pointee >> (8 - primeBits)))
                    primeBits = 0
                    next += 1
                    remaining -= 1
                    compressedOffset += 1
                    continue
                }
                if trailerLeft > 0 {
                    let skipped = min(remaining, trailerLeft)
                    next += skipped
                    remaining -= skipped
                    compressedOffset += Int64(skipped)
                    trailerLeft -= skipped
                    if trailerLeft == 0 {
                        insideMember = false
                        raw = false
                        inflateReset2(stream, 16 + MAX_WBITS)
                    }
                    continue
                }
                if !insideMember {
                    insideMember = true
                    memberStart = decompressedOffset
                    let member = GzipEntry(compressedOffset: compressedOffset, decompressedOffset: decompressedOffset)
                    entry = { member }
                    entryOffset = decompressedOffset
                }
                let chunk = min(remaining, Int(UInt32.max))
                stream.pointee.next_in = next
                stream.pointee.avail_in = uInt(chunk)
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                // Stopping at every block boundary costs time: only once an access point is due.
                let due = accessPointSpacing.map { decompressedOffset - entryOffset >= $0 } ?? false
                let status = CZlib.inflate(stream, due ? Z_BLOCK : Z_NO_FLUSH)
                let consumed = chunk - Int(stream.pointee.avail_in)
                let produced = out.count - Int(stream.pointee.avail_out)
                next += consumed
                remaining -= consumed
                compressedOffset += Int64(consumed)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_STREAM_END where raw:
                    trailerLeft = 8
                case Z_STREAM_END:
                    // The next byte, if any, must begin another member.
                    insideMember = false
                    inflateReset(stream)
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "inflate status \(status)"
                    throw GzipError(kind: .corrupt, message: reason, compressedOffset: compressedOffset)
                }
                if produced > 0 {
                    let piece = GzipPiece(bytes: UnsafeRawBufferPointer(rebasing: out[0..<produced]), entry: entry, compressedEnd: compressedOffset)
                    decompressedOffset += Int64(produced)
                    guard try body(piece) else { return false }
                } else if consumed == 0 && status != Z_STREAM_END {
                    throw GzipError(kind: .corrupt, message: "inflate made no progress", compressedOffset: compressedOffset)
                }
                if status == Z_OK, due, let point = Self.accessPoint(stream, compressedOffset: compressedOffset, decompressedOffset: decompressedOffset, memberStart: memberStart) {
                    entry = point
                    entryOffset = decompressedOffset
                }
            }
            return true
        }
    }

    /// After a `Z_BLOCK` stop at a block boundary (not the member's header, nor past its last
    /// block), that boundary as the entry of the pieces that follow (zlib's examples/zran.c).
    /// Only the window is copied here; it is packed if and when the entry is asked for.
    private static func accessPoint(
        _ stream: UnsafeMutablePointer<z_stream>, compressedOffset: Int64, decompressedOffset: Int64, memberStart: Int64
    ) -> (@Sendable () throws(GzipError) -> GzipEntry)? {
        let state = stream.pointee.data_type
        guard state & 128 != 0, state & 64 == 0, decompressedOffset > memberStart else { return nil }
        var window = [UInt8](repeating: 0, count: 1 << Int(MAX_WBITS))
        var length = uInt(window.count)
        guard window.withUnsafeMutableBufferPointer({ inflateGetDictionary(stream, $0.baseAddress, &length) }) == Z_OK else { return nil }
        window.removeSubrange(Int(length)...)
        let bits = Int(state & 7)
        let offset = compressedOffset - (bits > 0 ? 1 : 0)
        return { [window] () throws(GzipError) in
            GzipEntry(compressedOffset: offset, decompressedOffset: decompressedOffset, bits: bits, packedWindow: try Gzip.compress(window))
        }
    }

    /// Call when the input is exhausted: a stream that stops inside a member is truncated.
    public func finish() throws(GzipError) {
        if insideMember {
            throw GzipError(kind: .truncated, message: "the stream ends inside a gzip member (truncated file)", compressedOffset: compressedOffset)
        }
    }

    /// The gzip magic number, `1f 8b`.
    public static func looksCompressed(_ prefix: some Collection<UInt8>) -> Bool {
        var bytes = prefix.makeIterator()
        return bytes.next() == 0x1F && bytes.next() == 0x8B
    }
}

/// One-shot gzip, for small buffers (access point windows), test inputs and benchmark files.
public enum Gzip {
    /// Stops past `limit` bytes of output, so a small input cannot claim unbounded memory.
    public static func decompress(_ input: [UInt8], limit: Int = .max) throws(GzipError) -> [UInt8] {
        var inflater = try GzipInflater(outputBufferSize: 64 << 10)
        var output: [UInt8] = []
        do {
            let whole = try input.withUnsafeBytes { try inflater.inflate($0) { output += $0.bytes; return output.count <= limit } }
            guard whole else {
                throw GzipError(kind: .corrupt, message: "inflates to more than \(limit) bytes", compressedOffset: inflater.compressedOffset)
            }
        } catch let error as GzipError {
            throw error
        } catch {
            throw GzipError(kind: .corrupt, message: "\(error)", compressedOffset: inflater.compressedOffset)  // the body above never throws
        }
        try inflater.finish()
        return output
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(GzipError) -> [UInt8] {
        var stream = z_stream()
        guard sortie_deflate_init2(&stream, level, 16 + MAX_WBITS) == Z_OK else {
            throw GzipError(kind: .resources, message: "deflateInit2 failed", compressedOffset: 0)
        }
        defer { deflateEnd(&stream) }
        var result = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 64)
        let status = input.withUnsafeBytes { source in
            result.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw GzipError(kind: .corrupt, message: "deflate status \(status)", compressedOffset: 0)
        }
        result.removeSubrange(Int(stream.total_out)...)
        return result
    }
}
