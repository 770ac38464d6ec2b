import Foundation

/// Runs blocking work (libcurl, a child process) on its own thread: blocking a Swift concurrency
/// thread could starve the in-process servers that the work is waiting for.
@discardableResult
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 4 << 20
        thread.start()
    }
}
