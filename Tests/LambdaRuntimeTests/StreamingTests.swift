import Foundation
import LocalRuntime
import SortieTestSupport
import Synchronization
import Testing

/// Streamed responses through the loop, libcurl and the local Runtime API, in a real process.
@Suite("Response streaming")
struct StreamingTests {
    /// Checks streamed bytes against the probe's pattern (byte i is i mod 251) as they arrive.
    final class PatternCheck: Sendable {
        /// The pattern from every phase 0..<251, long enough for any chunk: compared with memcmp, not byte by byte.
        static let pattern = Data((0..<(2 * 1024 * 1024 + 251)).map { UInt8($0 % 251) })
        private let state = Mutex((count: 0, mismatches: 0))
        var count: Int { state.withLock { $0.count } }
        /// Chunks that differed from the pattern.
        var mismatches: Int { state.withLock { $0.mismatches } }

        func take(_ chunk: Data) {
            state.withLock { state in
                let phase = state.count % 251
                if chunk.count > Self.pattern.count - phase || chunk != Self.pattern[phase..<(phase + chunk.count)] {
                    state.mismatches += 1
                }
                state.count += chunk.count
            }
        }
    }

    func request(_ event: String, into check: PatternCheck) -> InvocationRequest {
        InvocationRequest(payload: Data(event.utf8), timeout: .seconds(180), streamedBytes: { check.take($0) })
    }

    @Test("50 MB streams through the loop byte for byte in at most 16 MB resident, 1 MB more than a 1 MB stream")
    func fiftyMegabytes() async throws {
        try await withFunction("StreamProbe") { function in
            // The same path once with 1 MB, so that what 50 MB adds is what streaming holds.
            let small = PatternCheck()
            _ = await function.invoke(request(#"{"bytes":1048576,"chunk":262144}"#, into: small))
            #expect(small.count == 1_048_576)
            let before = try #require(residentKilobytes(function.processID, "VmHWM:"))
            let check = PatternCheck()
            let total = 50 * 1024 * 1024
            let outcome = await function.invoke(request("{\"bytes\":\(total),\"chunk\":262144}", into: check))
            #expect(outcome == .response(requestID: outcome.requestID ?? "", body: Data()))
            #expect(check.count == total)
            #expect(check.mismatches == 0)
            let peak = try #require(residentKilobytes(function.processID, "VmHWM:"))
            print("streamed 50 MB: the function's peak RSS (VmHWM) \(peak / 1024) MB, \(peak - before) kB above its peak after 1 MB")
            #expect(peak - before <= 1024, "VmHWM \(before) → \(peak) kB")
            // A debug product, or one that maps the system's dynamic libcurl with every protocol and TLS
            // library it links, holds some 20 MB resident in all; a static release build is held to the bound itself.
            let maps = procText("/proc/\(function.processID)/maps") ?? ""
            let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(function.processID)/exe")) ?? ""
            if !maps.contains("libcurl.so") && !executable.contains("/debug/") {
                #expect(peak <= 16 * 1024, "VmHWM \(peak) kB")
            }
        }
    }

    @Test("an error after the first byte arrives in the trailers; one before it on /error; the loop goes on")
    func midStreamError() async throws {
        try await withFunction("StreamProbe") { function in
            let check = PatternCheck()
            let failed = await function.invoke(request(#"{"bytes":1000000,"chunk":10000,"failAfter":300000}"#, into: check))
            let error = try failed.functionError()
            #expect(error.type == "StreamProbeFailure")
            #expect(error.report["errorType"] as? String == "StreamProbeFailure")
            #expect(error.report["errorMessage"] as? String == "asked to fail after 300000 bytes")
            #expect(check.count == 300_000 && check.mismatches == 0)

            let early = try await function.invoke(json: #"{"bytes":10,"failBefore":true}"#).functionError()
            #expect(early.report["errorMessage"] as? String == "asked to fail before streaming")

            let collected = try await function.invoke(json: #"{"bytes":70000,"chunk":7000}"#).responseBody()
            #expect(collected == Data((0..<70_000).map { UInt8($0 % 251) }))
            #expect(function.exitStatusIfEnded == nil)
        }
    }

    @Test("a stream whose invocation timed out is refused with 410, logged, and the next one streams")
    func refusedStream() async throws {
        try await withFunction("StreamProbe") { function in
            let check = PatternCheck()
            var late = request(#"{"bytes":200000,"chunk":50000}"#, into: check)
            late.expiresOnHandover = true
            guard case .timedOut(let requestID) = await function.invoke(late) else { Issue.record("not timed out"); return }
            #expect(check.count == 0)
            let next = PatternCheck()
            _ = await function.invoke(request(#"{"bytes":100000}"#, into: next))
            #expect(next.count == 100_000)
            let log = await function.capturedLog { $0.contains("request \(requestID)") }
            #expect(log.contains("refused the streamed response of request \(requestID)") && log.contains("HTTP 410"), "\(log)")
        }
    }

    @Test("under concurrency 3, three streams run at once, each independently")
    func concurrentStreams() async throws {
        try await withFunction("StreamProbe", concurrency: 3) { function in
            let checks = (0..<3).map { _ in PatternCheck() }
            let arrivals = Mutex<[Int]>([])  // which stream each chunk belonged to, in arrival order
            let outcomes = await withTaskGroup(of: InvocationOutcome.self) { group in
                for (index, check) in checks.enumerated() {
                    // 40 writes 50 ms apart: the three overlap unless the loops were serialised, even
                    // when a loaded machine starts them a second apart. The second fails after its
                    // last byte, so its error travels in the trailers.
                    let event = index == 1
                        ? #"{"bytes":400000,"chunk":10000,"pauseMilliseconds":50,"failAfter":400000}"#
                        : #"{"bytes":400000,"chunk":10000,"pauseMilliseconds":50}"#
                    let streamed = InvocationRequest(payload: Data(event.utf8), timeout: .seconds(60)) { chunk in
                        arrivals.withLock { $0.append(index) }
                        check.take(chunk)
                    }
                    group.addTask { await function.invoke(streamed) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // Measured by order, not the clock: every stream had begun before any had ended.
            let order = arrivals.withLock { $0 }
            let lastFirst = (0..<3).compactMap { order.firstIndex(of: $0) }.max() ?? .max
            let firstLast = (0..<3).compactMap { order.lastIndex(of: $0) }.min() ?? -1
            #expect(lastFirst < firstLast, "\(order)")
            #expect(outcomes.filter { if case .response = $0 { true } else { false } }.count == 2)
            #expect(outcomes.filter { if case .functionError(_, "StreamProbeFailure", _) = $0 { true } else { false } }.count == 1)
            #expect(checks.map(\.count) == [400_000, 400_000, 400_000])
            #expect(checks.allSatisfy { $0.mismatches == 0 })
        }
    }
}
