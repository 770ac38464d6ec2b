#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A place inflating can start from. Deflate data cannot be decoded from just anywhere: only
/// from a gzip member's first byte, or from a deflate block boundary inside a member given the
/// output before it that the block may refer back to (an access point, as in zlib's
/// examples/zran.c). Without access points, every chunk of a one-member file would be
/// fetched and inflated from the file's first byte.
public struct GzipEntry: Sendable, Hashable, Codable {
    /// The first compressed byte to read: a member's first byte, or the byte holding a block's first bits.
    public var compressedOffset: Int64
    public var decompressedOffset: Int64
    /// At a block boundary: how many of the high bits of the byte at `compressedOffset` are the block's (0: byte-aligned).
    public var bits: Int
    /// At a block boundary: up to 32 KiB of the output before it, itself gzip-compressed as it is
    /// kept, stored and sent (a text window shrinks to about a quarter). Nil at a member start.
    public var packedWindow: [UInt8]?

    public init(compressedOffset: Int64, decompressedOffset: Int64, bits: Int = 0, packedWindow: [UInt8]? = nil) {
        self.compressedOffset = compressedOffset
        self.decompressedOffset = decompressedOffset
        self.bits = bits
        self.packedWindow = packedWindow
    }

    public static let fileStart = GzipEntry(compressedOffset: 0, decompressedOffset: 0)

    public var isMemberStart: Bool { packedWindow == nil }

    enum CodingKeys: String, CodingKey {
        case compressedOffset, decompressedOffset, bits, packedWindow = "window"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            compressedOffset: try container.decode(Int64.self, forKey: .compressedOffset),
            decompressedOffset: try container.decode(Int64.self, forKey: .decompressedOffset),
            bits: try container.decodeIfPresent(Int.self, forKey: .bits) ?? 0,
            packedWindow: try container.decodeIfPresent(Data.self, forKey: .packedWindow).map { [UInt8]($0) })
    }

    /// A member start encodes as its two offsets alone; an access point adds `bits` and its window (base64 in JSON).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(compressedOffset, forKey: .compressedOffset)
        try container.encode(decompressedOffset, forKey: .decompressedOffset)
        if bits != 0 { try container.encode(bits, forKey: .bits) }
        if let packedWindow { try container.encode(Data(packedWindow), forKey: .packedWindow) }
    }
}
