import ArgumentParser
import DevEnvironment
import Foundation
import Logging

/// Where `sortie dev` finds the repository and the built functions.
struct DevLocation: ParsableArguments {
    @Option(help: "The repository (holds functions/).")
    var repository = "."

    @Option(help: "Where the functions and sortie-runner were built (default: next to this program).")
    var products: String?

    func options(retryBackoffSeconds: Int, overrides: [String: [String: String]] = [:], logs: Bool) -> DevEnvironment.Options {
        let own = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let workspace = URL(fileURLWithPath: repository).appendingPathComponent(".sortie/dev-\(getpid())")
        return DevEnvironment.Options(
            repository: URL(fileURLWithPath: repository), products: products.map { URL(fileURLWithPath: $0) } ?? own, workspace: workspace,
            retryBackoffSeconds: retryBackoffSeconds, overrides: overrides, logs: logs ? .standardError : .capture)
    }
}

struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the deployment on 127.0.0.1: moto as AWS, every function in its bootstrap, an instance agent as EC2. Ctrl-C stops it.",
        subcommands: [Up.self, DevCapacity.self], defaultSubcommand: Up.self)

    struct Up: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start sortie dev (what `sortie dev` alone does).")

        @OptionGroup var location: DevLocation

        @Option(help: "Seconds before a failed job's first retry, and before a job EC2 had no capacity for is tried again.")
        var retryBackoff = 1

        @Option(help: "Instance types EC2 has no capacity for from the start, comma-separated (`sortie dev capacity` changes it).")
        var soldOut: String?

        @OptionGroup var progressOptions: ProgressOptions

        func run() throws {
            var options = location.options(retryBackoffSeconds: retryBackoff, logs: true)
            options.soldOut = DevCapacity.types(soldOut)
            try Dev.serve(options, progress: progressOptions.reporter())
        }
    }

    static func serve(_ options: DevEnvironment.Options, progress: Progress) throws {
        defer { progress.close() }
        try runBlocking {
            let environment = try await DevEnvironment.start(options, logger: Self.logger, progress: progress.stage)
            progress.finish("sortie dev is up")
            print("sortie dev: moto on \(environment.moto.endpoint); functions: \(environment.functions.keys.sorted().joined(separator: ", "))")
            print("table \(environment.resources.table), buckets \(environment.resources.buckets.joined(separator: ", ")); instances run in \(options.workspace.path)/instances")
            if !options.soldOut.isEmpty { print("EC2 has no capacity for \(options.soldOut.sorted().joined(separator: ", ")) (sortie dev capacity changes it)") }
            print("to talk to it:")
            for (name, value) in environment.environment.sorted(by: { $0.key < $1.key }) { print("  export \(name)='\(value)'") }
            // Whoever reads the settings through a pipe needs them now, not when sortie dev stops.
            fflush(nil)
            await Self.interrupted()
            print("\nsortie dev: stopping")
            await environment.stop()
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "sortie.dev")
        logger.logLevel = .info
        return logger
    }

    /// Returns on SIGINT or SIGTERM.
    static func interrupted() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { if once.claim() { continuation.resume() } }
                source.resume()
                OnceFlag.keep(source)
            }
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start sortie dev and run the scripted story; exits 0 only if every expectation held.")

    @OptionGroup var location: DevLocation

    @Flag(help: "Show the functions' and instances' logs.")
    var verbose = false

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let options = location.options(retryBackoffSeconds: 1, overrides: try DemoStory.overrides(repository: URL(fileURLWithPath: location.repository)), logs: verbose)
        let progress = progressOptions.reporter()
        defer { progress.close() }
        let passed = try runBlocking { () async throws -> Bool in
            let clock = ContinuousClock()
            let begun = clock.now
            var logger = Dev.logger
            logger.logLevel = verbose ? .info : .warning
            let environment = try await DevEnvironment.start(options, logger: logger, progress: progress.stage)
            progress.finish("sortie dev is up")
            print("sortie dev up in \(Self.seconds(clock.now - begun)) (moto on \(environment.moto.endpoint))")
            let checks: [DemoStory.Check]
            do {
                checks = try await DemoStory(environment: environment) { print($0) }.run()
            } catch {
                await environment.stop()
                throw error
            }
            await environment.stop()
            print("== summary (\(Self.seconds(clock.now - begun)))")
            for check in checks { print("  \(check.passed ? "ok  " : "FAIL") \(check.name): \(check.detail)") }
            let passed = checks.allSatisfy(\.passed)
            // The instances' sandboxes are kept only when something needs looking into.
            if passed { try? FileManager.default.removeItem(at: options.workspace) } else { print("instances' sandboxes: \(options.workspace.path)") }
            return passed
        }
        if !passed { throw ExitCode.failure }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

/// Runs async work from a synchronous command: the work runs on the concurrency pool while this thread waits.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.set(await Result(catching: body))
        done.signal()
    }
    done.wait()
    return try box.get()
}

private final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?
    func set(_ value: Result<T, any Error>) { lock.withLock { result = value } }
    func get() throws -> T {
        guard let result = lock.withLock({ result }) else { throw CancellationError() }
        return try result.get()
    }
}

/// Lets exactly one caller through; keeps signal sources alive for the process's life.
private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    func claim() -> Bool { lock.withLock { defer { claimed = true }; return !claimed } }
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
