#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Fetches numbered parts on `width` threads, at most `width` ahead of the consumer, and hands
/// them out in order: one GET stream is the bottleneck on S3 (some 50–100 MB/s), several are not,
/// and memory stays within `width` parts plus the one being read.
///
/// Each fetch blocks its thread in libcurl (a session per thread), so these are POSIX threads,
/// joined before `run` returns.
final class ReadAhead: @unchecked Sendable {
    // Guarded by `mutex`; `cond` is signalled whenever any of it changes.
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var next = 0
    private var consumed = 0
    private var stopped = false
    private var ready: [Int: Result<Data, any Error>] = [:]

    private let count: Int
    private let width: Int
    private let fetch: @Sendable (Int) throws -> Data

    private init(count: Int, width: Int, fetch: @escaping @Sendable (Int) throws -> Data) {
        self.count = count
        self.width = width
        self.fetch = fetch
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&cond, nil)
    }

    deinit {
        pthread_cond_destroy(&cond)
        pthread_mutex_destroy(&mutex)
    }

    /// Calls `body` with parts `0..<count` in order until it returns false or a fetch fails (thrown here).
    static func run(count: Int, width: Int, fetch: @escaping @Sendable (Int) throws -> Data, _ body: (Data) throws -> Bool) throws {
        let pipeline = ReadAhead(count: count, width: max(1, width), fetch: fetch)
        let threads = (0..<min(pipeline.width, count)).map { _ in pipeline.start() }
        defer {
            pipeline.locked { $0.stopped = true }
            for thread in threads { pthread_join(thread, nil) }
        }
        for index in 0..<count {
            let part = pipeline.take(index)
            guard try body(part.get()) else { return }
        }
    }

    private func locked<T>(_ action: (ReadAhead) -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer {
            pthread_cond_broadcast(&cond)
            pthread_mutex_unlock(&mutex)
        }
        return action(self)
    }

    private func take(_ index: Int) -> Result<Data, any Error> {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while ready[index] == nil { pthread_cond_wait(&cond, &mutex) }
        consumed = index + 1
        pthread_cond_broadcast(&cond)
        return ready.removeValue(forKey: index) ?? .failure(ObjectReadError(description: "part \(index) went missing"))
    }

    /// The next part to fetch, once it is within the window; nil when there is nothing left to do.
    private func claim() -> Int? {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while !stopped && next < count && next >= consumed + width { pthread_cond_wait(&cond, &mutex) }
        guard !stopped, next < count else { return nil }
        next += 1
        return next - 1
    }

    private func work() {
        while let index = claim() {
            let result = Result { try fetch(index) }
            locked { $0.ready[index] = result }
        }
    }

    private final class Body {
        let pipeline: ReadAhead
        init(_ pipeline: ReadAhead) { self.pipeline = pipeline }
    }

    private func start() -> pthread_t {
        let context = Unmanaged.passRetained(Body(self)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().pipeline.work()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        return thread
    }
}
