import LoopbackHTTP
import Synchronization

/// S3's object reads on 127.0.0.1, for simulated objects: `HEAD` and `GET` (with `Range` and
/// `If-Match`, as the submitter sends them) on path-style `/bucket/key`, with S3's status codes
/// and XML errors. Point a client at it with `AWS_ENDPOINT_URL_S3`; nothing is stored.
public final class SimulatedS3: Sendable {
    private struct State {
        var objects: [String: SimulatedObject] = [:]
        var gets = 0
        var bytesServed: Int64 = 0
        /// GETs whose range starts at or after this offset wait until it is lifted.
        var holdFrom: Int64?
        var held = 0
    }

    /// What the server and its handler share.
    private final class Store: Sendable {
        let state = Mutex(State())
    }

    private let server: LoopbackHTTPServer
    private let store: Store

    public var endpoint: String { server.endpoint }

    private init(server: LoopbackHTTPServer, store: Store) {
        self.server = server
        self.store = store
    }

    public static func start() async throws -> SimulatedS3 {
        let store = Store()
        let server = try await LoopbackHTTPServer.start { request in await answer(request, store) }
        return SimulatedS3(server: server, store: store)
    }

    public func stop() async { await server.stop() }

    /// Puts (or replaces, with another ETag) the object at `bucket/key`.
    public func put(bucket: String, key: String, _ object: SimulatedObject) {
        store.state.withLock { $0.objects["\(bucket)/\(key)"] = object }
    }

    /// GETs made and object bytes sent so far.
    public var served: (gets: Int, bytes: Int64) { store.state.withLock { ($0.gets, $0.bytesServed) } }

    /// Makes every GET whose range starts at or after `offset` wait (nil: let them through), as a
    /// stalled connection would; `heldGets` says how many are waiting.
    public func hold(from offset: Int64?) { store.state.withLock { $0.holdFrom = offset } }
    public var heldGets: Int { store.state.withLock { $0.held } }

    private static func answer(_ request: LoopbackRequest, _ store: Store) async -> LoopbackResponse {
        let path = request.path.dropFirst()
        guard let object = store.state.withLock({ $0.objects[Self.decode(path)] }) else {
            return request.method == "HEAD" ? LoopbackResponse(status: 404) : Self.error(404, "NoSuchKey", "The specified key does not exist.")
        }
        var headers: [(String, String)] = [
            ("ETag", "\"\(object.eTag)\""), ("Last-Modified", "Sat, 05 Dec 2026 09:00:00 GMT"), ("Accept-Ranges", "bytes"),
            ("Content-Type", "binary/octet-stream"),
        ]
        if let ifMatch = request.header("If-Match"), ifMatch.trimmingCharacters("\"") != object.eTag {
            return Self.error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        }
        switch request.method {
        case "HEAD":
            headers.append(("Content-Length", String(object.size)))
            return LoopbackResponse(status: 200, headers: headers)
        case "GET":
            var range: Range<Int64> = 0..<object.size
            var status = 200
            if let header = request.header("Range") {
                guard let asked = Self.range(header, size: object.size) else {
                    return Self.error(416, "InvalidRange", "The requested range is not satisfiable")
                }
                range = asked
                status = 206
                headers.append(("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(object.size)"))
            }
            await waitWhileHeld(range.lowerBound, store)
            let body = object.bytes(range)
            store.state.withLock {
                $0.gets += 1
                $0.bytesServed += Int64(body.count)
            }
            return LoopbackResponse(status: status, headers: headers, body: body)
        default:
            return Self.error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        }
    }

    private static func waitWhileHeld(_ offset: Int64, _ store: Store) async {
        guard store.state.withLock({ state in
            guard let from = state.holdFrom, offset >= from else { return false }
            state.held += 1
            return true
        }) else { return }
        // Bounded: a held GET is let go after ten minutes whatever happens.
        for _ in 0..<60_000 {
            if store.state.withLock({ $0.holdFrom.map { offset < $0 } ?? true }) { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        store.state.withLock { $0.held -= 1 }
    }

    /// `bytes=first-last`, `bytes=first-` or `bytes=-count`, clamped as S3 does; nil when unsatisfiable.
    static func range(_ header: String, size: Int64) -> Range<Int64>? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let spec = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard spec.count == 2 else { return nil }
        if spec[0].isEmpty {
            guard let count = Int64(spec[1]), count > 0 else { return nil }
            return max(0, size - count)..<size
        }
        guard let first = Int64(spec[0]), first < size else { return nil }
        let last = spec[1].isEmpty ? size - 1 : min(Int64(spec[1]) ?? -1, size - 1)
        guard last >= first else { return nil }
        return first..<last + 1
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> LoopbackResponse {
        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>sim</RequestId></Error>"
        return LoopbackResponse(status: status, headers: [("Content-Type", "application/xml")], body: Array(body.utf8))
    }

    /// A path-style path's percent-encoding undone.
    static func decode(_ path: Substring) -> String {
        var bytes: [UInt8] = []
        var input = Array(path.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let value = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate func trimmingCharacters(_ character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return String(text)
    }
}
