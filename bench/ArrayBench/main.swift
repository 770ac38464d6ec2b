import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import JobModel
import JobStore
import LocalAWS
import Logging
import SortieTestSupport

// An array job on `sortie dev`, end to end: the launcher function submits an array of
// SORTIE_BENCH_ARRAY children (1,000) of a spec with max_concurrency SORTIE_BENCH_CONCURRENCY (20),
// then the instance agent, runners and retry reactor drain it. Figures: the submission's time and
// DynamoDB requests (the launcher's own), the drain's time and DynamoDB requests (by program), and
// the most children running at once, polled from the slots and read back from the children's
// histories. Requests are counted from moto's request recorder, told apart by the role that signed them.
// SORTIE_BENCH_SPEEDUP sets `sortie dev`'s schedule speed-up (1: the reactor's sweep every 5 minutes),
// SORTIE_BENCH_STEP_SECONDS how long each child's step sleeps (0).
//   swift build --product array-bench --product launcher --product retry-reactor --product sortie-runner \
//       --product s3-submitter --product chunk-processor && .build/debug/array-bench

let settings = ProcessInfo.processInfo.environment
let size = Int(settings["SORTIE_BENCH_ARRAY"] ?? "") ?? 1000
let concurrency = Int(settings["SORTIE_BENCH_CONCURRENCY"] ?? "") ?? 20
// How much faster than EventBridge `sortie dev` fires the schedules: its default 150 sweeps every 2 s, and
// each sweep reads every terminated instance EC2 still lists (a thousand here), which swamps moto.
// 1: the reactor's sweep every 5 minutes, as deployed; endings reach it as events, as they would in AWS.
let speedUp = Int(settings["SORTIE_BENCH_SPEEDUP"] ?? "") ?? 1
// How long each child's step takes: 0 measures the machinery alone; a few seconds lets the children overlap up to the limit.
let stepSeconds = Int(settings["SORTIE_BENCH_STEP_SECONDS"] ?? "") ?? 0

/// A line on stdout at once, so a long run's figures show as they come.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let recording = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-array-bench-\(UUID().uuidString.prefix(8)).jsonl")
// moto inherits this process's environment: its recorder writes here.
setenv("MOTO_RECORDER_FILEPATH", recording.path, 1)
defer { try? FileManager.default.removeItem(at: recording) }

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

var logger = Logger(label: "array-bench")
logger.logLevel = .error
let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-array-bench-\(UUID().uuidString.prefix(8))")
defer { try? FileManager.default.removeItem(at: workspace) }
let environment = try await DevEnvironment.start(
    .init(repository: Repository.root, products: BuiltProducts.directory, workspace: workspace, scheduleSpeedUp: speedUp), logger: logger)
let store = JobStore(dynamoDB: DynamoDB(client: environment.client), table: environment.resources.table)

let spec = JobSpec(
    name: "bench-array", instance: InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890"),
    steps: [.init(name: "shard", run: #"sleep "# + String(stepSeconds) + #"; echo "shard $SORTIE_ARRAY_INDEX of $SORTIE_ARRAY_SIZE""#)], timeoutSeconds: 300,
    maxConcurrency: concurrency)
try S3(client: environment.client).putObject(bucket: environment.resources.bucket, key: "specs/\(spec.name).json", body: try JSONEncoder.sorted.encode(spec))

/// moto's request recorder: each request a JSON line, from when it is started.
func recorder(_ action: String) throws {
    let answer = try LoopbackHTTP.request(port: environment.moto.port, method: "POST", path: "/moto-api/recorder/\(action)")
    guard answer.status == 200 else { throw BenchError(description: "moto's recorder refused \(action): HTTP \(answer.status)") }
}

/// Who signed each recorded request (the program, by its role's key) and what it was (DynamoDB's operation, or the service).
func recorded() throws -> [(program: String, call: String)] {
    var programs = [environment.environment["AWS_ACCESS_KEY_ID"] ?? "": "bench (polling)"]
    for (name, credentials) in environment.roles.credentials { programs[credentials.accessKeyID] = name }
    let text = (try? String(contentsOf: recording, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
        guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let headers = entry["headers"] as? [String: String] else { return nil }
        let lowered = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        let authorization = lowered["authorization"] ?? ""
        let key = authorization.range(of: "Credential=").map { String(authorization[$0.upperBound...].prefix { $0 != "/" }) } ?? ""
        let call: String
        if let target = lowered["x-amz-target"], target.hasPrefix("DynamoDB_20120810.") {
            call = "DynamoDB " + target.dropFirst("DynamoDB_20120810.".count)
        } else {
            let scope = authorization.split(separator: "/").dropFirst(3).first.map(String.init) ?? "?"
            call = scope
        }
        return (programs[key] ?? "other", call)
    }
}

func report(_ title: String, _ calls: ArraySlice<(program: String, call: String)>) {
    let dynamo = calls.filter { $0.call.hasPrefix("DynamoDB ") && $0.program != "bench (polling)" }
    say("\(title): \(dynamo.count) DynamoDB requests (the bench's own polling left out), \(calls.filter { !$0.call.hasPrefix("DynamoDB ") && $0.program != "bench (polling)" }.count) to other services")
    for (program, group) in Dictionary(grouping: dynamo, by: \.program).sorted(by: { $0.key < $1.key }) {
        let operations = Dictionary(grouping: group, by: \.call).map { ($0.key.dropFirst("DynamoDB ".count), $0.value.count) }.sorted { $0.1 > $1.1 }
        say("  \(program.padding(toLength: 14, withPad: " ", startingAt: 0)) \(String(group.count).padding(toLength: 6, withPad: " ", startingAt: 0)) " + operations.map { "\($0.0) \($0.1)" }.joined(separator: ", "))
    }
}

// MARK: Submission

try recorder("reset-recording")
try recorder("start-recording")
let event = try JSONSerialization.data(withJSONObject: ["job": spec.name, "array": size, "id": UUID().uuidString.lowercased()])
let submitStart = ContinuousClock.now
let answer = try JSONSerialization.jsonObject(with: try await environment.invoke("launcher", event)) as? [String: Any] ?? [:]
let submitTime = ContinuousClock.now - submitStart
guard let parent = answer["jobId"] as? String else { throw BenchError(description: "the launcher answered \(answer)") }
let atSubmitted = try recorded()
say("array of \(size), max_concurrency \(concurrency), each child's step \(stepSeconds) s, on sortie dev (\(BuiltProducts.directory.lastPathComponent) products, schedules \(speedUp)x: the sweep every \(300 / speedUp) s)")
say("submit: \(answer["outcome"] ?? "?") in \(submitTime) (the launcher function's invocation, parent \(parent.prefix(8)))")
report("submit, the launcher's", atSubmitted.filter { $0.program == "launcher" }[...])

// MARK: Drain

// Polled once a second (moto serves one request at a time: the bench's own reads slow what it measures),
// with a progress line every minute so a run cut short still says how far it got.
var most = 0
var polls = 0
var decided: JobRecord?
var nextProgress = ContinuousClock.now + .seconds(60)
let deadline = ContinuousClock.now + .seconds(Int64(settings["SORTIE_BENCH_PATIENCE"] ?? "") ?? 3600)
while ContinuousClock.now < deadline {
    most = max(most, try store.slotHolders().count)
    polls += 1
    if let record = try store.record(parent), record.state.isFinal {
        decided = record
        break
    }
    if ContinuousClock.now >= nextProgress, let (_, progress) = try store.array(parent) {
        let requests = try recorded().filter { $0.call.hasPrefix("DynamoDB ") && $0.program != "bench (polling)" }.count
        say("  \(ContinuousClock.now - submitStart): \(progress.succeeded + progress.failed) of \(size) ended, \(progress.created) made, most running \(most); \(requests) DynamoDB requests")
        nextProgress = ContinuousClock.now + .seconds(60)
    }
    try await Task.sleep(for: .seconds(1))
}
let drainTime = ContinuousClock.now - submitStart
let all = try recorded()
try recorder("stop-recording")
guard let decided else { throw BenchError(description: "the array had not ended after an hour") }
let children = try store.children(of: decided, created: size)
let intervals = children.map { child in
    (child.history.first { $0.state == .starting }?.at ?? .max, child.history.last { $0.state.isFinal }?.at ?? .max)
}
// From the children's own histories: starts and ends in order, an end first at the same instant.
var running = 0
var mostInHistories = 0
for point in intervals.flatMap({ [($0.0, 1), ($0.1, -1)] }).sorted(by: { ($0.0, $0.1) < ($1.0, $1.1) }) {
    running += point.1
    mostInHistories = max(mostInHistories, running)
}
say("drain: parent \(decided.state.rawValue) (\(decided.statusReason ?? "")) \(drainTime) after submission; \(children.filter { $0.state == .succeeded }.count) children SUCCEEDED")
say("most running at once: \(most) in the slots (polled \(polls) times), \(mostInHistories) in the children's histories (limit \(concurrency))")
report("submit + drain, by program", all[...])
let perChild = Double(all.filter { $0.call.hasPrefix("DynamoDB ") && $0.program != "bench (polling)" }.count) / Double(size)
say(String(format: "  %.1f DynamoDB requests per child", perChild))
await environment.stop()
if decided.state != .succeeded || most > concurrency || mostInHistories > concurrency { exit(1) }
