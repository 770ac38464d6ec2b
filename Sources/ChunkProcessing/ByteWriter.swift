#if canImport(Glibc)
import Glibc
#endif

/// Appends bytes into memory set aside beforehand. The record loop sets aside a record's
/// worst case once, so each append is a bounds check and a store — no capacity growth or
/// uniqueness check per byte, which is what `[UInt8].append` pays.
public struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    public private(set) var count = 0

    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: 1).unsafelyUnwrapped
        capacity = buffer.count
    }

    /// What was written so far.
    public var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        precondition(count < capacity, "ByteWriter: past the space set aside")
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        precondition(bytes.count <= capacity - count, "ByteWriter: past the space set aside")
        if let source = bytes.baseAddress { memcpy(base + count, source, bytes.count) }
        count += bytes.count
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Drops what was written after `mark` (a rejected record's partial output).
    mutating func truncate(to mark: Int) {
        count = min(count, mark)
    }

    /// Runs `body` on a writer with room for `limit` bytes and returns what it wrote, for the
    /// few places outside the record loop that want an array.
    public static func bytes<Result>(atMost limit: Int, _ body: (inout ByteWriter) throws -> Result) rethrows -> ([UInt8], Result) {
        var result: Result?
        var written = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: limit) { buffer, initialized in
            var writer = ByteWriter(buffer)
            result = try body(&writer)
            written = writer.count
            initialized = written
        }
        // `body` returned normally, so `result` is set.
        return (bytes, result.unsafelyUnwrapped)
    }
}
