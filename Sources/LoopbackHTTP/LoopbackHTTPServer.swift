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
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let boundPort = server.channel.localAddress?.port ?? port
        let connections = Connections()
        // Connection tasks inherit the executor preference from this one.
        let task = Task<Void, Never>(executorPreference: ServerExecutor.shared) {
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        connections.insert(connection.channel)
                        group.addTask {
                            await serve(connection, streaming, handler)
                            connections.remove(connection.channel)
                        }
                    }
                }
            }
        }
        return LoopbackHTTPServer(port: boundPort, serverChannel: server.channel, connections: connections, task: task)
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Stops listening and drops every open connection, as a host that went away would.
    public func stop() async {
        try? await serverChannel.close()
        for channel in connections.all() { try? await channel.close() }
        task.cancel()
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
    private final class Connections: Sendable {
        private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

        func insert(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
        func remove(_ channel: any Channel) { _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) } }
        func all() -> [any Channel] { channels.withLock { Array($0.values) } }
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
