import AWSCore
import AWSServices
import Foundation
import Launcher
import LocalRuntime
import Logging
import JobModel
import JobStore
import SortieTestSupport

// Figures for the launcher against moto on loopback (one request at a time, as in the tests).
// moto copies a whole table for every transaction, so its answers slow down as the table
// fills: the 50-event run goes first, on an empty table, as in the test.
//   - warm latency, event in → response out, through the `launcher` executable under the local
//     Runtime API: a launch (submit, slot, RunInstances, instance id) and a duplicate delivery;
//   - the 50-event run: 50 concurrent launches of a job with max_concurrency 4, wall time.
//   swift build -c release --product launcher --product sortie-runner --product launcher-bench
//   .build/release/launcher-bench            (SORTIE_BENCH_LAUNCHES sets the sample size, default 200)

let samples = Int(ProcessInfo.processInfo.environment["SORTIE_BENCH_LAUNCHES"] ?? "") ?? 200
let moto = try MotoServer.serialized()
let client = try AWSClient.fromEnvironment(AWSEnvironment(moto.environment))
let suffix = UUID().uuidString.prefix(8).lowercased()
let (table, bucket) = ("bench-jobs-\(suffix)", "bench-\(suffix)")
try createJobTable(client, table)
try S3(client: client).createBucket(bucket)
try CloudWatchLogs(client: client).createLogGroup("/sortie/bench")
for (name, limit) in [("wide", 1000), ("narrow", 4)] {
    let spec = JobSpec(
        name: name, instance: InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890"),
        steps: [.init(name: "work", run: "echo working")], timeoutSeconds: 600, maxConcurrency: limit)
    try S3(client: client).putObject(bucket: bucket, key: "specs/\(name).json", body: try JSONEncoder.sorted.encode(spec))
}
let environment = moto.environment.merging([
    "SORTIE_TABLE": table, "SORTIE_SPECS": "s3://\(bucket)/specs/", "SORTIE_RUNNER_URL": "s3://\(bucket)/sortie-runner",
    "SORTIE_LOG_BUCKET": bucket, "SORTIE_LOG_GROUP": "/sortie/bench", "SORTIE_MAX_RUNNING": "100000",
]) { $1 }

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func report(_ label: String, _ durations: [Duration]) {
    let sorted = durations.map(milliseconds).sorted()
    func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    let mean = sorted.reduce(0, +) / Double(sorted.count)
    print(String(format: "%@: n=%d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  mean %.2f ms", label, sorted.count, percentile(0.5), percentile(0.9), percentile(0.99), mean))
}

// The 50-event run, in process: 50 threads, one launch each.
let logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    return logger
}()
// The metrics lines are not what this measures.
let launcher = Launcher(configuration: try LauncherConfiguration.fromEnvironment(environment), client: client, emit: { _ in })
// moto loads each service's code on first use: one launch first, so the run measures launches.
_ = try launcher.launch(LaunchEvent(job: "wide", eventID: "warm-up"), requestID: "warm-up", logger: logger)
let clock = ContinuousClock()
let start = clock.now
let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
    for index in 0..<50 {
        group.addTask {
            try await blocking { try launcher.launch(LaunchEvent(job: "narrow", eventID: "burst-\(index)"), requestID: "b\(index)", logger: logger).outcome.rawValue }
        }
    }
    var counts: [String: Int] = [:]
    for try await outcome in group { counts[outcome, default: 0] += 1 }
    return counts
}
print(String(format: "50 concurrent launches, max_concurrency 4: %.0f ms wall (%@)", milliseconds(clock.now - start),
             outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")))

let function = try await LocalFunction.start(.init(
    executable: try BuiltProducts.executable("launcher"), functionName: "launcher", environment: environment, logs: .capture))
func invoke(_ json: String) async throws -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    let outcome = await function.invoke(InvocationRequest(payload: Data(json.utf8)))
    let took = clock.now - start
    guard case .response = outcome else { fatalError("launcher failed: \(outcome)\n\(function.capturedLog.suffix(2000))") }
    return took
}
let cold = try await invoke(#"{"job":"wide","id":"cold"}"#)
print(String(format: "first invocation (cold handler, warm process): %.2f ms", milliseconds(cold)))
var launches: [Duration] = []
var duplicates: [Duration] = []
for index in 0..<samples {
    launches.append(try await invoke(#"{"job":"wide","id":"launch-\#(index)"}"#))
    duplicates.append(try await invoke(#"{"job":"wide","id":"launch-\#(index)"}"#))
}
await function.stop()
report("warm launch (event → STARTING on a new instance)", launches)
report("warm duplicate delivery (event seen before)     ", duplicates)

moto.stop()
