import ArgumentParser
import Foundation
import LocalRuntime

@main
struct SortieLocal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sortie-local",
        abstract: "Runs Lambda functions on this machine against a local Runtime API.",
        subcommands: [Invoke.self])
}

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Starts a function executable, hands it events and prints what it answers.",
        discussion: """
            A streamed response is printed as it arrives when one invocation runs at a time. \
            Exit status: 0 when every invocation succeeded, 1 when the function reported an error \
            (its error JSON is printed), 2 when it failed to initialise, crashed or timed out.
            """)

    @Argument(help: "The function's executable (a bootstrap or a built product).")
    var executable: String

    @Option(name: .customLong("event"), help: "A file holding one event; repeatable. Without it the event is read from stdin.")
    var events: [String] = []

    @Option(help: "How many times to send each event to the same process.")
    var count = 1

    @Option(help: "How many invocations run at once (sets AWS_LAMBDA_MAX_CONCURRENCY).")
    var concurrency = 1

    @Option(help: "The function timeout in seconds.")
    var timeout = 60.0

    @Option(name: .customLong("env"), help: "KEY=VALUE added to the function's environment; repeatable.")
    var environment: [String] = []

    @Option(help: "The function name the function sees (default: the executable's name).")
    var functionName: String?

    @Option(help: "A tenant id sent with every invocation (Lambda-Runtime-Aws-Tenant-Id).")
    var tenantID: String?

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        for pair in environment where !pair.contains("=") {
            throw ValidationError("--env takes KEY=VALUE, got '\(pair)'")
        }
    }

    func run() async throws {
        let payloads = try readEvents()
        let function = try await LocalFunction.start(.init(
            executable: executable, functionName: functionName,
            environment: Dictionary(environment.map(splitPair), uniquingKeysWith: { $1 }),
            concurrency: concurrency))
        // One at a time, each outcome is printed as it comes, a streamed body as its bytes arrive.
        let live = concurrency == 1
        let printStreamed: @Sendable (Data) async -> Void = { FileHandle.standardOutput.write($0) }
        let requests = Array(repeating: payloads, count: count).flatMap { $0 }.map {
            InvocationRequest(payload: $0, timeout: .milliseconds(Int(timeout * 1000)), tenantID: tenantID,
                              streamedBytes: live ? printStreamed : nil)
        }
        var status: Int32 = 0
        if live {
            for (index, request) in requests.enumerated() {
                if index > 0 { FileHandle.standardOutput.write(Data("\n".utf8)) }
                status = max(status, report(await function.invoke(request)))
            }
        } else {
            for (index, outcome) in await invokeAll(requests, on: function).enumerated() {
                if index > 0 { FileHandle.standardOutput.write(Data("\n".utf8)) }
                status = max(status, report(outcome))
            }
        }
        await function.stop()
        throw ExitCode(status)
    }

    private func readEvents() throws -> [Data] {
        guard !events.isEmpty else { return [FileHandle.standardInput.readDataToEndOfFile()] }
        return try events.map { path in
            do {
                return try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ValidationError("cannot read event file \(path): \(error.localizedDescription)")
            }
        }
    }

    /// Keeps `concurrency` invocations in flight; outcomes come back in submission order.
    private func invokeAll(_ requests: [InvocationRequest], on function: LocalFunction) async -> [InvocationOutcome] {
        await withTaskGroup(of: (Int, InvocationOutcome).self) { group in
            var outcomes = [InvocationOutcome?](repeating: nil, count: requests.count)
            var nextIndex = 0
            func submitNext() {
                guard nextIndex < requests.count else { return }
                let index = nextIndex
                nextIndex += 1
                group.addTask { (index, await function.invoke(requests[index])) }
            }
            for _ in 0..<concurrency { submitNext() }
            for await (index, outcome) in group {
                outcomes[index] = outcome
                submitNext()
            }
            return outcomes.compactMap { $0 }
        }
    }

    /// Prints an outcome and returns its exit status.
    private func report(_ outcome: InvocationOutcome) -> Int32 {
        switch outcome {
        case .response(_, let body):
            FileHandle.standardOutput.write(body)
            return 0
        case .functionError(let requestID, let errorType, let body):
            FileHandle.standardOutput.write(body)
            warn("invocation \(requestID) failed: \(errorType ?? "unknown error type")")
            return 1
        case .initError(let errorType, let body):
            warn("the function failed to initialise (\(errorType ?? "unknown error type")): \(String(decoding: body, as: UTF8.self))")
        case .processExited(let code):
            warn("the function process exited with status \(code) before answering")
        case .timedOut(let requestID):
            warn("invocation \(requestID) timed out after \(timeout) s")
        }
        return 2
    }

    private func splitPair(_ pair: String) -> (String, String) {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
    }

    private func warn(_ message: String) {
        FileHandle.standardError.write(Data("sortie-local: \(message)\n".utf8))
    }
}
