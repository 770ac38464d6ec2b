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

    /// Puts `value` in the environment until `clear()`.
    static func set(_ value: String) {
        let text = Array("\(name)=\(value)".utf8CString)
        entry.withLock { entry in
            // Cleared after each invocation, the old buffer is no longer the environment's: free to go.
            unsetenv(name)
            if text.count > entry.capacity {
                entry.buffer?.deallocate()
                entry.capacity = max(text.count, 256)
                entry.buffer = .allocate(capacity: entry.capacity)
            }
            guard let buffer = entry.buffer else { return }
            text.withUnsafeBufferPointer { source in
                guard let start = source.baseAddress else { return }
                buffer.update(from: start, count: source.count)
            }
            putenv(buffer)
        }
    }

    static func clear() {
        entry.withLock { _ in _ = unsetenv(name) }
    }
}
