import ArgumentParser
import Foundation
import LocalRuntime

/// Measures a function runtime under the local Runtime API: cold start (process start → first
/// `next`), invocations per second, p50/p99 latency of a small echo, and peak RSS.
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

    @Option(help: "Cold starts to time per function.")
    var coldStarts = 20

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0) }
        let payload = Data((0..<payloadBytes).map { UInt8(ascii: "a") &+ UInt8($0 % 26) })
        print("function        conc  init p50   inv/s     p50 µs   p99 µs   peak RSS")
        for entry in functions {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--function takes LABEL=PATH, got \(entry)") }
            let initTime = try await medianColdStart(parts[1])
            for level in levels {
                let result = try await measure(parts[1], concurrency: level, payload: payload)
                print(String(format: "%-15@ %4d  %6.2f ms  %7.0f  %7.1f  %7.1f   %5.1f MB",
                             parts[0], level, initTime, result.perSecond, result.p50, result.p99, result.peakRSSMegabytes))
            }
        }
    }

    /// Median over several fresh processes: spawn → first `next` on the Runtime API.
    private func medianColdStart(_ path: String) async throws -> Double {
        var samples: [Double] = []
        for _ in 0..<coldStarts {
            let function = try await LocalFunction.start(.init(executable: path))
            _ = await function.invoke(InvocationRequest(payload: Data("{}".utf8), timeout: .seconds(10)))
            if let duration = await function.initDuration() { samples.append(milliseconds(duration)) }
            await function.stop()
        }
        samples.sort()
        return samples.isEmpty ? .nan : samples[samples.count / 2]
    }

    private struct Result {
        var perSecond: Double
        var p50: Double
        var p99: Double
        var peakRSSMegabytes: Double
    }

    private func measure(_ path: String, concurrency: Int, payload: Data) async throws -> Result {
        let function = try await LocalFunction.start(.init(executable: path, concurrency: concurrency))
        defer { Task { await function.stop() } }
        let request = InvocationRequest(payload: payload, timeout: .seconds(10))
        for _ in 0..<200 {  // warm-up
            guard case .response = await function.invoke(request) else { throw ValidationError("\(path) failed to echo") }
        }
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
        let rss = peakRSS(function.processID)
        await function.stop()
        return Result(
            perSecond: Double(latencies.count) / milliseconds(elapsed) * 1000,
            p50: latencies[latencies.count / 2],
            p99: latencies[min(latencies.count - 1, latencies.count * 99 / 100)],
            peakRSSMegabytes: rss)
    }

    /// VmHWM: the resident set's high-water mark, in MB.
    private func peakRSS(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return .nan }
        return kilobytes / 1024
    }

    private func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
