#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One `CurlSession` per OS thread, created on first use and freed when the thread exits:
/// lets a `Sendable` client value be shared by threads without sharing a libcurl handle.
public enum ThreadLocalCurlSession {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<CurlSession>.fromOpaque(pointer).release()
        }
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()

    /// This thread's session.
    public static func current() throws(HTTPTransportError) -> CurlSession {
        if let pointer = pthread_getspecific(key) {
            return Unmanaged<CurlSession>.fromOpaque(pointer).takeUnretainedValue()
        }
        let session = try CurlSession()
        pthread_setspecific(key, Unmanaged.passRetained(session).toOpaque())
        return session
    }
}
