#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import SortieVersion
import Synchronization

/// The entry point of every Sortie function: `Lambda.run(name: "echo") { _ in EchoHandler() }`.
public enum Lambda {
    /// Serves a JSON handler until the Runtime API goes away.
    public static func run<Handler: LambdaHandler>(name: String, _ makeHandler: (InitContext) throws -> Handler) -> Never {
        run(name: name) { context in JSONHandlerAdapter(handler: try makeHandler(context)) }
    }

    /// Serves a bytes handler until the Runtime API goes away.
    ///
    /// `makeHandler` runs once, before the first `next`; if it throws, the error goes to
    /// `/init/error` and the process exits non-zero.
    public static func run<Handler: ByteHandler>(name: String, _ makeHandler: (InitContext) throws -> Handler) -> Never {
        serve(name: name) { context in .buffered(try makeHandler(context)) }
    }

    /// Serves a streaming handler until the Runtime API goes away; each invocation's response is streamed.
    public static func run<Handler: StreamingHandler>(name: String, _ makeHandler: (InitContext) throws -> Handler) -> Never {
        serve(name: name) { context in .streaming(try makeHandler(context)) }
    }

    private static func serve(name: String, _ makeHandler: (InitContext) throws -> FunctionHandler) -> Never {
        if CommandLine.arguments.dropFirst().first == "--version" {
            print("\(name) \(SortieRelease.version)")
            exit(0)
        }
        let environment: RuntimeEnvironment
        do {
            environment = try RuntimeEnvironment.load(defaultName: name)
        } catch {
            LambdaLogHandler.writeLine("\(name): \(error)")
            exit(1)
        }
        LoggingSystem.bootstrap { label in
            LambdaLogHandler(label: label, format: environment.logFormat, level: environment.logLevel.level)
        }
        let logger = Logger(label: environment.function.name)

        let firstClient: RuntimeAPIClient
        let handler: FunctionHandler
        do {
            firstClient = try RuntimeAPIClient(endpoint: environment.runtimeAPI)
        } catch {
            fail(error, logger)
        }
        do {
            handler = try makeHandler(InitContext(function: environment.function, logger: logger, concurrency: environment.concurrency))
        } catch {
            let report = ErrorReport(error)
            logger.critical("initialisation failed: \(report.errorType): \(report.errorMessage)")
            do { try firstClient.reportInitError(report) } catch { fail(error, logger) }
            exit(1)
        }

        @Sendable func loop(_ client: RuntimeAPIClient) -> InvocationLoop<RuntimeAPIClient> {
            InvocationLoop(api: client, handler: handler, function: environment.function, logger: logger,
                           exportsTraceID: environment.concurrency == 1)
        }
        // One OS thread and one connection per concurrent invocation; this thread runs the first loop.
        for _ in 1..<environment.concurrency {
            OSThread.spawn {
                do throws(RuntimeAPIError) {
                    try loop(RuntimeAPIClient(endpoint: environment.runtimeAPI)).run()
                } catch {
                    fail(error, logger)
                }
            }
        }
        do {
            try loop(firstClient).run { StartupCode.release(writable: environment.concurrency == 1) }
        } catch {
            fail(error, logger)
        }
    }

    private static let failing = Atomic<Bool>(false)

    /// Ends the process on a Runtime API failure: one log line, however many loops hit it.
    static func fail(_ error: RuntimeAPIError, _ logger: Logger) -> Never {
        if failing.exchange(true, ordering: .acquiringAndReleasing) == false {
            logger.critical("\(error); exiting")
            exit(1)
        }
        // Another loop is already exiting the process; wait for it rather than log again.
        while true { pause() }
    }
}
