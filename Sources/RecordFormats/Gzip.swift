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

/// Where a gzip member starts: the only places a reader can enter a gzip file, since deflate
/// data cannot be decoded from the middle.
public struct GzipMember: Sendable, Hashable, Codable {
    public var compressedOffset: Int64
    public var decompressedOffset: Int64

    public init(compressedOffset: Int64, decompressedOffset: Int64) {
        self.compressedOffset = compressedOffset
        self.decompressedOffset = decompressedOffset
    }
}

/// A piece of decompressed output.
public struct GzipPiece {
    public var bytes: UnsafeRawBufferPointer
    /// The member the bytes belong to (a place to start inflating from to reach them again).
    public var member: GzipMember
    /// Compressed bytes consumed to produce them: inflating from `member` up to this offset
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
    private var member: GzipMember
    public private(set) var compressedOffset: Int64
    public private(set) var decompressedOffset: Int64

    /// `start` is where the input begins, a member start of the file.
    public init(start: GzipMember = GzipMember(compressedOffset: 0, decompressedOffset: 0), outputBufferSize: Int = 256 << 10) throws(GzipError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = [UInt8](repeating: 0, count: outputBufferSize)
        member = start
        compressedOffset = start.compressedOffset
        decompressedOffset = start.decompressedOffset
        // 16 + 15: a gzip wrapper (not zlib or raw deflate), the largest window.
        guard sortie_inflate_init2(stream, 16 + MAX_WBITS) == Z_OK else {
            stream.deallocate()
            throw GzipError(kind: .resources, message: "inflateInit2 failed", compressedOffset: start.compressedOffset)
        }
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
                if !insideMember {
                    insideMember = true
                    member = GzipMember(compressedOffset: compressedOffset, decompressedOffset: decompressedOffset)
                }
                let chunk = min(remaining, Int(UInt32.max))
                stream.pointee.next_in = next
                stream.pointee.avail_in = uInt(chunk)
                stream.pointee.next_out = out.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(out.count)
                let status = CZlib.inflate(stream, Z_NO_FLUSH)
                let consumed = chunk - Int(stream.pointee.avail_in)
                let produced = out.count - Int(stream.pointee.avail_out)
                next += consumed
                remaining -= consumed
                compressedOffset += Int64(consumed)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    break
                case Z_STREAM_END:
                    // The next byte, if any, must begin another member.
                    insideMember = false
                    inflateReset(stream)
                default:
                    let reason = stream.pointee.msg.map { String(cString: $0) } ?? "inflate status \(status)"
                    throw GzipError(kind: .corrupt, message: reason, compressedOffset: compressedOffset)
                }
                if produced > 0 {
                    let piece = GzipPiece(bytes: UnsafeRawBufferPointer(rebasing: out[0..<produced]), member: member, compressedEnd: compressedOffset)
                    decompressedOffset += Int64(produced)
                    guard try body(piece) else { return false }
                } else if consumed == 0 && status != Z_STREAM_END {
                    throw GzipError(kind: .corrupt, message: "inflate made no progress", compressedOffset: compressedOffset)
                }
            }
            return true
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

/// One-shot gzip compression, for writing test inputs and benchmark files.
public enum Gzip {
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
