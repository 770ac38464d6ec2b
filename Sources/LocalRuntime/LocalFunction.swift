import Foundation
import ChildProcesses
import LoopbackHTTP
import Synchronization

/// A function executable running against a Runtime API emulator on 127.0.0.1,
/// the way Lambda would run its `bootstrap`.
public final class LocalFunction: Sendable {
    public struct Configuration: Sendable {
        public var executable: String
        public var functionName: String
        /// Added to (and overriding) this process's environment.
        public var environment: [String: String]
        /// `AWS_LAMBDA_MAX_CONCURRENCY`; 1 leaves the variable unset, as Lambda does.
        public var concurrency: Int
        /// Where the function's stdout and stderr go.
        public var logs: LogDestination
        /// Whether `next` sends `Lambda-Runtime-Invocation-Id` (and answers must echo it), as Lambda does today.
        public var sendsInvocationIDs: Bool
        /// Whether the answer of an invocation that timed out gets 410 Gone (`ErrorRuntimeInvokeTimeout`), as
        /// Lambda answers today, or 400 (`InvalidStateTransition`).
        public var lateAnswersGone: Bool

        public init(executable: String, functionName: String? = nil, environment: [String: String] = [:],
                    concurrency: Int = 1, logs: LogDestination = .standardError,
                    sendsInvocationIDs: Bool = true, lateAnswersGone: Bool = true) {
            self.executable = executable
            self.functionName = functionName ?? URL(fileURLWithPath: executable).lastPathComponent
            self.environment = environment
            self.concurrency = concurrency
            self.logs = logs
            self.sendsInvocationIDs = sendsInvocationIDs
            self.lateAnswersGone = lateAnswersGone
        }
    }

    public enum LogDestination: Sendable, Equatable {
        case standardError
        /// Kept in memory and readable through `capturedLog`, for tests.
        case capture
    }

    public let runtimeAPI: String
    public let processID: Int32
    private let queue: InvocationQueue
    private let server: LoopbackHTTPServer
    private let process: ChildProcess
    private let log: LogBuffer
    private let exitStatus: ExitRecord
    private let startedAt: ContinuousClock.Instant

    private init(runtimeAPI: String, queue: InvocationQueue, server: LoopbackHTTPServer, process: ChildProcess,
                 log: LogBuffer, exitStatus: ExitRecord, startedAt: ContinuousClock.Instant) {
        self.runtimeAPI = runtimeAPI
        self.processID = process.pid
        self.queue = queue
        self.server = server
        self.process = process
        self.log = log
        self.exitStatus = exitStatus
        self.startedAt = startedAt
    }

    /// Starts the Runtime API on a free loopback port, then the function process against it.
    public static func start(_ configuration: Configuration) async throws -> LocalFunction {
        let queue = InvocationQueue(sendsInvocationIDs: configuration.sendsInvocationIDs)
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:\(configuration.functionName)"
        let routes = RuntimeAPIRoutes(queue: queue, functionARN: arn, lateAnswersGone: configuration.lateAnswersGone)
        let server = try await LoopbackHTTPServer.start(streaming: { await routes.streamingRoute($0) }) { await routes.respond(to: $0) }
        let runtimeAPI = "127.0.0.1:\(server.port)"

        let log = LogBuffer()
        let exitStatus = ExitRecord()
        let startedAt = ContinuousClock.now
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                executable: configuration.executable,
                environment: environment(for: configuration, runtimeAPI: runtimeAPI),
                output: configuration.logs == .capture ? .pipe { log.append($0) } : .standardError
            ) { status in
                exitStatus.status.withLock { $0 = status }
                Task { await queue.end(with: .processExited(status: status)) }
            }
        } catch {
            await server.stop()
            throw error
        }
        return LocalFunction(runtimeAPI: runtimeAPI, queue: queue, server: server, process: process,
                             log: log, exitStatus: exitStatus, startedAt: startedAt)
    }

    static func environment(for configuration: Configuration, runtimeAPI: String) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let name = configuration.functionName
        environment["AWS_LAMBDA_RUNTIME_API"] = runtimeAPI
        environment["AWS_LAMBDA_FUNCTION_NAME"] = name
        environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] ?? "128"
        environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/\(name)"
        environment["AWS_LAMBDA_LOG_STREAM_NAME"] = "local/[$LATEST]\(UUID().uuidString.lowercased())"
        environment["AWS_LAMBDA_MAX_CONCURRENCY"] = configuration.concurrency > 1 ? String(configuration.concurrency) : nil
        // Lambda always sets the region; a function that builds an AWS client at init needs it.
        environment["AWS_REGION"] = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        environment.merge(configuration.environment) { $1 }
        return environment
    }

    /// Hands the function one event and waits for its outcome.
    public func invoke(_ request: InvocationRequest) async -> InvocationOutcome {
        await queue.submit(request)
    }

    /// Process start → the function's first `next`: its cold-start cost.
    public func initDuration() async -> Duration? {
        await queue.firstNextAt.map { $0 - startedAt }
    }

    /// Everything the function wrote so far, when its logs are captured.
    public var capturedLog: String { log.text }

    /// The captured log once `isComplete` holds for it, or as it is after `timeout`: lines travel
    /// through a pipe and may trail the outcome of the invocation that wrote them.
    public func capturedLog(until isComplete: (String) -> Bool, timeout: Duration = .seconds(5)) async -> String {
        let deadline = ContinuousClock.now + timeout
        var text = log.text
        while !isComplete(text) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
            text = log.text
        }
        return text
    }

    /// The exit status once the process has ended (128 + signal number for a signal).
    public var exitStatusIfEnded: Int32? { exitStatus.status.withLock { $0 } }

    /// Waits up to `timeout` for the process to end by itself.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatusIfEnded { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return exitStatusIfEnded
    }

    /// Fails the Runtime API under the running function, as a broken host would: waiting and
    /// later `next` calls are answered HTTP 500 ("container error"), which a runtime must exit on.
    public func failRuntimeAPI() async {
        await queue.close()
    }

    /// Takes the Runtime API away: the port closes and open connections drop.
    public func stopRuntimeAPI() async {
        await server.stop()
    }

    /// Ends the function (SIGTERM, then SIGKILL) and the emulator.
    public func stop() async {
        if exitStatusIfEnded == nil {
            process.signal(SIGTERM)
            if await waitForExit(timeout: .seconds(2)) == nil {
                process.signal(SIGKILL)
                _ = await waitForExit(timeout: .seconds(2))
            }
        }
        await server.stop()
    }
}

public struct LocalRuntimeError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

private final class ExitRecord: Sendable {
    let status = Mutex<Int32?>(nil)
}

private final class LogBuffer: Sendable {
    private let data = Mutex(Data())

    func append(_ chunk: Data) {
        data.withLock { $0.append(chunk) }
    }

    var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
}
