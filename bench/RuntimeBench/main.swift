import ArgumentParser
import Foundation
import LocalRuntime

/// Measures function runtimes under the local Runtime API, side by side: cold start (process
/// start → first `next`), invocations per second, p50/p99 latency of a small echo, and resident
/// memory after the run (VmRSS) and at its peak (VmHWM). Cold starts of all functions are taken
/// in turns, so that a busy machine slows each of them alike.
@main
struct RuntimeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runtime-bench")

    @Option(name: .customLong("function"), help: "LABEL=PATH of an echo-compatible function; repeatable.")
    var functions: [String]

    @Option(help: "Invocations per measurement.")
    var invocations = 5_000

    @Option(help: "Payload size in bytes.")
    var payloadBytes = 1_024

    @Option(help: "Concurrency levels to measure, comma-separated (AWS_LAMBDA_MAX_CONCURRENCY and requests in flight).")
    var concurrency = "1"

    @Option(name: .customLong("init-only"),
            help: "LABEL=PATH[@DEFINITION.json] of a function whose init alone is timed, with its definition's environment; repeatable.")
    var initOnly: [String] = []

    @Option(help: "Cold starts to time per function.")
    var coldStarts = 20

    @Option(help: "Measurements per function and concurrency, taken in turns; the medians are printed.")
    var rounds = 3

    private struct Subject {
        var label: String
        var path: String
        var environment: [String: String] = [:]
    }

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let payload = Data((0..<payloadBytes).map { UInt8(ascii: "a") &+ UInt8($0 % 26) })
        let echoes = try functions.map(subject)
        let others = try initOnly.map(subject)
        let initTimes = try await medianColdStarts(echoes + others)
        print("function        conc  init p50   inv/s     p50 µs   p99 µs   CPU µs/inv   RSS after   peak RSS")
        for level in levels {
            // Each echo is measured `rounds` times, in turns, and the medians printed: a busy moment slows each alike.
            var results = [[Result]](repeating: [], count: echoes.count)
            for _ in 0..<rounds {
                for (index, echo) in echoes.enumerated() { results[index].append(try await measure(echo.path, concurrency: level, payload: payload)) }
            }
            for (index, echo) in echoes.enumerated() {
                func median(_ figure: (Result) -> Double) -> Double { results[index].map(figure).sorted()[results[index].count / 2] }
                print(String(format: "%-15@ %4d  %6.2f ms  %7.0f  %7.1f  %7.1f   %8.1f     %5.1f MB   %5.1f MB",
                             echo.label, level, initTimes[index], median(\.perSecond), median(\.p50), median(\.p99), median(\.cpuMicrosecondsPerInvocation),
                             median(\.rssMegabytes), median(\.peakRSSMegabytes)))
            }
            if echoes.count >= 2 {
                let (first, second) = (results[0].map(\.perSecond).sorted()[rounds / 2], results[1].map(\.perSecond).sorted()[rounds / 2])
                print(String(format: "inv/s ratio %@ / %@ at concurrency %d: %.2f×", echoes[0].label, echoes[1].label, level, first / second))
            }
        }
        for (index, other) in others.enumerated() {
            print(String(format: "%-15@    -  %6.2f ms   (init only, its definition's environment)", other.label, initTimes[echoes.count + index]))
        }
        if echoes.count >= 2 {
            print(String(format: "init ratio %@ / %@: %.2f×", echoes[0].label, echoes[1].label, initTimes[0] / initTimes[1]))
        }
    }

    private func subject(_ entry: String) throws -> Subject {
        let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("takes LABEL=PATH, got \(entry)") }
        let pathAndDefinition = parts[1].split(separator: "@", maxSplits: 1).map(String.init)
        var subject = Subject(label: parts[0], path: pathAndDefinition[0])
        if pathAndDefinition.count == 2 {
            let definition = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: pathAndDefinition[1])))
            for case let (name, value as String) in (definition as? [String: Any])?["environment"] as? [String: Any] ?? [:] {
                subject.environment[name] = value
            }
        }
        return subject
    }

    /// Medians over fresh processes, taken in turns: spawn → first `next` on the Runtime API.
    private func medianColdStarts(_ subjects: [Subject]) async throws -> [Double] {
        var samples = [[Double]](repeating: [], count: subjects.count)
        for _ in 0..<coldStarts {
            for (index, subject) in subjects.enumerated() {
                let function = try await LocalFunction.start(.init(executable: subject.path, environment: subject.environment, sendsInvocationIDs: false))
                // Only the echoes are invoked: the others' first `next` is the measure, and it waits.
                if index < functions.count {
                    _ = await function.invoke(InvocationRequest(payload: Data("{}".utf8), timeout: .seconds(10)))
                } else {
                    let deadline = ContinuousClock.now + .seconds(10)
                    while await function.initDuration() == nil, function.exitStatusIfEnded == nil, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(1))
                    }
                }
                if let duration = await function.initDuration() { samples[index].append(milliseconds(duration)) }
                await function.stop()
            }
        }
        return samples.map { values in
            values.isEmpty ? .nan : values.sorted()[values.count / 2]
        }
    }

    private struct Result {
        var perSecond: Double
        var p50: Double
        var p99: Double
        var rssMegabytes: Double
        var peakRSSMegabytes: Double
        var cpuMicrosecondsPerInvocation: Double
    }

    private func measure(_ path: String, concurrency: Int, payload: Data) async throws -> Result {
        // No invocation ids: peers that predate them (aws-lambda-cpp) do not echo them, and every
        // runtime measured is served the same protocol.
        let function = try await LocalFunction.start(.init(executable: path, concurrency: concurrency, sendsInvocationIDs: false))
        defer { Task { await function.stop() } }
        let request = InvocationRequest(payload: payload, timeout: .seconds(10))
        for _ in 0..<200 {  // warm-up
            guard case .response = await function.invoke(request) else { throw ValidationError("\(path) failed to echo") }
        }
        let cpuBefore = cpuNanoseconds(function.processID)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<concurrency {
                let share = invocations / concurrency + (worker < invocations % concurrency ? 1 : 0)
                group.addTask {
                    var samples: [Double] = []
                    samples.reserveCapacity(share)
                    for _ in 0..<share {
                        let sent = ContinuousClock.now
                        guard case .response(_, let body) = await function.invoke(request), body == payload else {
                            throw ValidationError("\(path) answered something other than its payload")
                        }
                        samples.append(milliseconds(ContinuousClock.now - sent) * 1000)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted()
        }
        let elapsed = ContinuousClock.now - started
        let cpu = cpuNanoseconds(function.processID) - cpuBefore
        let rss = memory(function.processID, "VmRSS:"), peak = memory(function.processID, "VmHWM:")
        await function.stop()
        return Result(
            perSecond: Double(latencies.count) / milliseconds(elapsed) * 1000,
            p50: latencies[latencies.count / 2],
            p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)],
            rssMegabytes: rss, peakRSSMegabytes: peak, cpuMicrosecondsPerInvocation: Double(cpu) / 1000 / Double(latencies.count))
    }

    /// CPU time the function's threads have used (user and system), from each one's schedstat:
    /// the runtime's own cost per invocation, whatever the harness's latency.
    private func cpuNanoseconds(_ pid: Int32) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.reduce(0) { sum, task in
            let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
            return sum + (text.split(separator: " ").first.flatMap { Int($0) } ?? 0)
        }
    }

    /// A /proc/PID/status figure (VmRSS: resident now; VmHWM: its high-water mark), in MB.
    private func memory(_ pid: Int32, _ field: String) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kilobytes / 1024
    }

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
