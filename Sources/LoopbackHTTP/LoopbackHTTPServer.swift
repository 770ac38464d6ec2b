import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with an async closure: the local
/// Runtime API and the tests' fake AWS endpoints. Keep-alive, TCP_NODELAY, one write per response.
public final class LoopbackHTTPServer: Sendable {
    public typealias Handler = @Sendable (LoopbackRequest) async -> LoopbackResponse
    /// Picks the requests whose body is taken as it arrives (given the request without its body);
    /// `nil` buffers the body for `Handler` as usual.
    public typealias StreamingRoute = @Sendable (LoopbackRequest) async -> (any LoopbackBodyReceiver)?

    public let port: Int
    private let serverChannel: any Channel
    private let connections: Connections
    private let task: Task<Void, Never>

    private init(port: Int, serverChannel: any Channel, connections: Connections, task: Task<Void, Never>) {
        self.port = port
        self.serverChannel = serverChannel
        self.connections = connections
        self.task = task
    }

    /// Binds a free port (or `port`) on 127.0.0.1 and starts serving.
    public static func start(port: Int = 0, streaming: StreamingRoute? = nil, _ handler: @escaping Handler) async throws -> LoopbackHTTPServer {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    // Deinit-based teardown, deprecated as a style: a connection accepted just as the
                    // listener closes can be dropped inside NIO before it reaches the accept loop, and
                    // the scoped wrapper then traps ("Deinited NIOAsyncWriter without calling finish()").
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(synchronouslyWrapping: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        let connections = Connections()
        // Connection tasks inherit the executor preference from this one.
        let task = Task<Void, Never>(executorPreference: ServerExecutor.shared) {
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        // A connection accepted as the server stops is closed at once, not served.
                        guard connections.insert(connection.channel) else {
                            try? await connection.executeThenClose { _, _ in }
                            continue
                        }
                        group.addTask {
                            await serve(connection, streaming, handler)
                            connections.remove(connection.channel)
                        }
                    }
                }
                // The listener is closed: handlers still waiting (a Runtime API's /next) end now.
                group.cancelAll()
            }
        }
        return LoopbackHTTPServer(port: boundPort, serverChannel: server.channel, connections: connections, task: task)
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Stops listening and drops every open connection, as a host that went away would.
    public func stop() async {
        // Not by cancelling the accept loop, which would drop the connections still queued in it:
        // the loop ends once the closed listener's queue is drained, then cancels the handlers.
        let open = connections.stop()
        try? await serverChannel.close()
        for channel in open { try? await channel.close() }
        await task.value
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>,
                              _ streaming: StreamingRoute?, _ handler: Handler) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            var receiver: (any LoopbackBodyReceiver)?
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                    receiver = await streaming?(LoopbackRequest(requestHead, body: []))
                case .body(var chunk):
                    // Awaiting the receiver before reading on holds a fast sender back.
                    if let receiver {
                        await receiver.receive(Array(chunk.readableBytesView))
                    } else {
                        body.writeBuffer(&chunk)
                    }
                case .end(let trailers):
                    guard let requestHead = head else { continue }
                    let response: LoopbackResponse
                    if let receiver {
                        response = await receiver.end(trailers: trailers.map { $0.map { ($0.name, $0.value) } } ?? [])
                    } else {
                        response = await handler(LoopbackRequest(requestHead, body: Array(body.readableBytesView)))
                    }
                    receiver = nil
                    var headers = NIOHTTP1.HTTPHeaders(response.headers)
                    // A HEAD answer has no body but tells the length a GET would have, when the handler gives it.
                    if requestHead.method != .HEAD || !headers.contains(name: "Content-Length") {
                        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                    }
                    if !requestHead.isKeepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                    let status = HTTPResponseStatus(statusCode: response.status)
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponseHead(version: requestHead.version, status: status, headers: headers)),
                        .body(.byteBuffer(ByteBuffer(bytes: response.body))),
                        .end(nil),
                    ])
                    if !requestHead.isKeepAlive { return }
                }
            }
        }
    }

    /// Open connections, so that `stop` can drop them.
    /// The open connections; once stopped, it takes no more (checked and stopped under one lock,
    /// so no connection is both refused by `stop` and served).
    private final class Connections: Sendable {
        private let state = Mutex<(channels: [ObjectIdentifier: any Channel], stopped: Bool)>(([:], false))

        /// Whether the connection is to be served: false once the server is stopping.
        func insert(_ channel: any Channel) -> Bool {
            state.withLock { state in
                guard !state.stopped else { return false }
                state.channels[ObjectIdentifier(channel)] = channel
                return true
            }
        }

        func remove(_ channel: any Channel) { _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }

        /// Takes no more connections and gives back those open now.
        func stop() -> [any Channel] {
            state.withLock { state in
                state.stopped = true
                return Array(state.channels.values)
            }
        }
    }
}

/// Takes one request's body as it arrives, then answers it.
public protocol LoopbackBodyReceiver: Sendable {
    func receive(_ chunk: [UInt8]) async
    /// The body has ended, with these trailer fields (chunked requests may carry some).
    func end(trailers: [(name: String, value: String)]) async -> LoopbackResponse
}

public struct LoopbackRequest: Sendable {
    public var method: String
    /// Path and query, as sent.
    public var uri: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    init(_ head: HTTPRequestHead, body: [UInt8]) {
        self.init(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
    }

    public init(method: String, uri: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
    }

    /// The path without the query string.
    public var path: String { String(uri.prefix { $0 != "?" }) }

    /// The first value of `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

public struct LoopbackResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
