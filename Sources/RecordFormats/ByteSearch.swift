/// Eight bytes at a time: whether a word of input holds any byte of interest, so the common
/// case (plain text) skips ahead without looking at each byte. A true answer may be a false
/// alarm after a matching byte; the caller then looks byte by byte, so it is never wrong.
public enum ByteSearch {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080
    private static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// Some byte of `word` may equal `byte`.
    @inline(__always)
    public static func mayContain(_ word: UInt64, _ byte: UInt8) -> Bool {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs != 0
    }

    /// Exactly the bytes of `word` equal to `byte`, each marked by its high bit (no false alarms,
    /// so the first match is at `trailingZeroBitCount / 8` — little-endian, as every Lambda CPU).
    @inline(__always)
    public static func matches(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return ~(((x & lows) &+ lows) | x | lows)
    }

    /// Some byte of `word` may be below `bound` (at most 128) or at least 0x80.
    @inline(__always)
    public static func mayHaveControlOrNonASCII(_ word: UInt64, below bound: UInt8) -> Bool {
        ((word &- ones &* UInt64(bound)) | word) & highs != 0
    }

    /// The eight bytes at `offset`, in memory order.
    @inline(__always)
    public static func word(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UnsafeRawPointer(bytes.baseAddress.unsafelyUnwrapped + offset).loadUnaligned(as: UInt64.self)
    }
}
