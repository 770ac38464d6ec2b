#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CurlHTTP

/// A streamed `/response` over libcurl. The handler's thread writes; a sender thread, started by
/// the first write with its own easy handle, runs the request and hands each write's bytes to libcurl as its read callback
/// asks for them. A write returns only once libcurl has taken its bytes, so whatever the size of
/// the response, what is held is the handler's current chunk and libcurl's upload buffer.
final class CurlResponseStream: ResponseStreamConnection, StreamingRequestBody, @unchecked Sendable {
    private let client: RuntimeAPIClient
    private let request: HTTPRequest
    // Everything below is guarded by `lock`.
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var pending: UnsafeRawBufferPointer?
    private var ended = false
    private var trailerFields = HTTPHeaders()
    private var result: Result<HTTPResponse, HTTPTransportError>?
    private(set) var hasStarted = false

    init(client: RuntimeAPIClient, request: HTTPRequest) {
        self.client = client
        self.request = request
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        changed.deallocate()
        lock.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ResponseStreamError) {
        guard !bytes.isEmpty else { return }
        startIfNeeded()
        let sent: Bool = locked {
            guard result == nil else { return false }
            pending = bytes
            pthread_cond_broadcast(changed)
            while pending != nil && result == nil { pthread_cond_wait(changed, lock) }
            let taken = pending == nil
            pending = nil
            return taken
        }
        guard sent else {
            throw ResponseStreamError(description: "the Runtime API stopped taking this response")
        }
    }

    func finish(failure: ErrorReport?) throws(RuntimeAPIError) -> AnswerStatus {
        startIfNeeded()
        let outcome: Result<HTTPResponse, HTTPTransportError> = locked {
            ended = true
            if let failure { trailerFields = failure.trailers() }
            pthread_cond_broadcast(changed)
            while true {
                if let result { return result }
                pthread_cond_wait(changed, lock)
            }
        }
        switch outcome {
        case .success(let response):
            return try client.status(of: response, "POST (streaming) \(request.url)")
        case .failure(let error):
            throw RuntimeAPIClient.unreachable(error)
        }
    }

    private func startIfNeeded() {
        guard !hasStarted else { return }
        hasStarted = true
        // A fresh handle (and connection) per stream: libcurl 7.88 writes a chunk header before its
        // upload buffer when an easy handle sends a second small chunked body (seen under valgrind).
        let session: CurlSession
        do {
            session = try CurlSession.direct()
        } catch {
            locked { result = .failure(error) }
            return
        }
        nonisolated(unsafe) let sender = session
        OSThread.spawn { [self] in
            let outcome = Result { () throws(HTTPTransportError) in try sender.send(request, streaming: self) }
            locked {
                result = outcome
                pthread_cond_broadcast(changed)
            }
        }
    }

    // StreamingRequestBody, called by libcurl on the sender thread.

    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        locked {
            while pending == nil && !ended { pthread_cond_wait(changed, lock) }
            guard let bytes = pending else { return 0 }
            let count = min(bytes.count, buffer.count)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(count)))
            if count == bytes.count {
                pending = nil
                pthread_cond_broadcast(changed)
            } else {
                pending = UnsafeRawBufferPointer(rebasing: bytes.dropFirst(count))
            }
            return count
        }
    }

    func trailers() -> HTTPHeaders {
        locked { trailerFields }
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }
}
