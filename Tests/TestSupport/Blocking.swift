import Foundation

/// Runs blocking work (libcurl) on its own thread: blocking a Swift concurrency thread could
/// starve the in-process fake servers that the work is waiting for. Expectations stay in the
/// async test body, where Swift Testing can attribute them.
@discardableResult
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 4 << 20
        thread.start()
    }
}

/// A name no parallel test uses.
public func unique(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(13).lowercased())"
}
