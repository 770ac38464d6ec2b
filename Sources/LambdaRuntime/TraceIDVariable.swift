#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// `_X_AMZN_TRACE_ID` for the one invocation running (concurrency 1), where X-Ray's SDKs read it.
/// `setenv` copies each value and glibc keeps every value it was ever given: with a new trace id
/// per invocation the process grew 2.7 MB in 20,000 invocations. Here the environment's entry is
/// one buffer of this runtime's, written over for each invocation while it is out of the environment.
enum TraceIDVariable {
    static let name = "_X_AMZN_TRACE_ID"

    private struct Entry: ~Copyable {
        var buffer: UnsafeMutablePointer<CChar>?
        var capacity = 0
    }

    private static let entry = Mutex(Entry())

    /// `NAME=` as the entry's first bytes.
    private static let prefix = Array("\(name)=".utf8)

    /// Puts `value` in the environment until `clear()`: its bytes written into the buffer, no
    /// string built on the way (this runs in every invocation).
    static func set(_ value: String) {
        let length = prefix.count + value.utf8.count + 1
        entry.withLock { entry in
            if length > entry.capacity {
                // The old buffer may still be the environment's entry: out first, then freed.
                unsetenv(name)
                entry.buffer?.deallocate()
                entry.capacity = max(length, 256)
                entry.buffer = .allocate(capacity: entry.capacity)
            }
            guard let buffer = entry.buffer else { return }
            let bytes = UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self)
            prefix.withUnsafeBufferPointer { source in
                if let start = source.baseAddress { bytes.update(from: start, count: source.count) }
            }
            var text = value
            text.withUTF8 { source in
                if let start = source.baseAddress { (bytes + prefix.count).update(from: start, count: source.count) }
            }
            bytes[length - 1] = 0
            putenv(buffer)
        }
    }

    static func clear() {
        entry.withLock { _ in _ = unsetenv(name) }
    }
}
