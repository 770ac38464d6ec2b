import AWSCore
import AWSServices
import Foundation
import Launcher
import Logging
import Reactor
import ReactorTestSupport
import JobModel
import JobStore
import SortieTestSupport
import TableSchema

// Figures for the retry reactor against moto on loopback (one request at a time, as the
// tests run it):
//   1. one decision: a `terminated` event in → instance described, record read, spec read,
//      decision written, the queue looked at; for a success and for a retry (which relaunches);
//   2. draining 100 queued jobs (max_concurrency 4) through success events.
//   swift run -c release --scratch-path .build-reactor reactor-bench

let environment = ProcessInfo.processInfo.environment
let decisions = Int(environment["SORTIE_BENCH_DECISIONS"] ?? "") ?? 50
let queued = Int(environment["SORTIE_BENCH_QUEUED"] ?? "") ?? 100

let logger = {
    var logger = Logger(label: "reactor-bench")
    logger.logLevel = .error
    return logger
}()

struct BenchError: Error, CustomStringConvertible {
    var description: String
}

let server = try MotoServer.serialized()
let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
let id = UUID().uuidString.prefix(8).lowercased()
let table = "bench-\(id)"
try createJobTable(client, table)
try S3(client: client).createBucket(table)
let settings = server.environment.merging([
    "SORTIE_TABLE": table, "SORTIE_SPECS": "s3://\(table)/specs/", "SORTIE_RUNNER_URL": "s3://\(table)/bin/sortie-runner", "SORTIE_LOG_BUCKET": table,
    "SORTIE_RETRY_BACKOFF_SECONDS": "0",
]) { $1 }
// The metrics lines are not what this measures.
let reactor = Reactor(configuration: try ReactorConfiguration.fromEnvironment(settings), client: client, emit: { _ in })
let launcher = Launcher(configuration: try LauncherConfiguration.fromEnvironment(settings), client: client, emit: { _ in })
let store = JobStore(dynamoDB: DynamoDB(client: client), table: table)
let runner = RunnerStandIn(store: store, logBucket: table)
let ec2 = EC2(client: client)

func publish(_ name: String, maxConcurrency: Int, attempts: Int) throws {
    let spec = JobSpec(
        name: name, instance: InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890"), steps: [.init(name: "load", run: "true")],
        timeoutSeconds: 600, retry: RetryStrategy(attempts: attempts), maxConcurrency: maxConcurrency)
    try S3(client: client).putObject(bucket: table, key: "specs/\(name).json", body: try JSONEncoder.sorted.encode(spec))
}

func submit(_ name: String) throws -> String {
    let response = try launcher.launch(LaunchEvent(job: name, eventID: UUID().uuidString), requestID: UUID().uuidString, logger: logger)
    guard let jobID = response.jobID else { throw BenchError(description: "no job id from the launcher") }
    return jobID
}

/// The runner finishes with `exitCode` and the instance terminates; returns the instance id.
func finish(_ jobID: String, exitCode: Int) throws -> String {
    guard let record = try store.record(jobID), let instance = record.instanceID else {
        throw BenchError(description: "job \(jobID) has no instance")
    }
    try runner.run(record, exitCode: exitCode)
    try ec2.terminateInstances([instance])
    return instance
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

func summary(_ samples: [Double]) -> String {
    let sorted = samples.sorted()
    let at = { (q: Double) in sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.down)))] }
    let mean = sorted.reduce(0, +) / Double(sorted.count)
    return String(format: "p50 %6.2f ms  p90 %6.2f ms  max %6.2f ms  mean %6.2f ms  (n=%d)", at(0.5), at(0.9), sorted.last ?? 0, mean, sorted.count)
}

func decide(_ instance: String, expect verdict: Verdict) throws -> Double {
    var response: ReactorResponse?
    let took = try milliseconds { response = try reactor.handle(ReactorEvent(.stateChange(instanceID: instance, state: "terminated")), logger: logger) }
    guard response?.decision == verdict else { throw BenchError(description: "expected \(verdict), got \(String(describing: response))") }
    return took
}

// MARK: One decision

let single = "single-\(id)"
try publish(single, maxConcurrency: 1, attempts: 1)
var successes: [Double] = []
for _ in 0..<decisions {
    successes.append(try decide(try finish(try submit(single), exitCode: 0), expect: .succeeded))
}
print("decision, success (event → SUCCEEDED settled, queue checked): \(summary(successes))")

let retried = "retried-\(id)"
try publish(retried, maxConcurrency: 1, attempts: 2)
var retries: [Double] = []
for _ in 0..<decisions {
    let jobID = try submit(retried)
    retries.append(try decide(try finish(jobID, exitCode: 1), expect: .retry))
    _ = try decide(try finish(jobID, exitCode: 0), expect: .succeeded)
}
print("decision, retry (event → RUNNABLE attempt 2 → relaunched):     \(summary(retries))")

// MARK: Draining a queue

let drained = "drain-\(id)"
try publish(drained, maxConcurrency: 4, attempts: 1)
var running: [String] = []
for _ in 0..<queued {
    let jobID = try submit(drained)
    if try store.record(jobID)?.state == .starting { running.append(jobID) }
}
var handling = 0.0
var completed = 0
let wall = try milliseconds {
    while let oldest = running.first, completed < queued {
        running.removeFirst()
        let instance = try finish(oldest, exitCode: 0)
        var started: [String] = []
        handling += try milliseconds {
            started = try reactor.handle(ReactorEvent(.stateChange(instanceID: instance, state: "terminated")), logger: logger).started ?? []
        }
        running += started
        completed += 1
    }
}
print(String(
    format: "drain %d queued jobs (max_concurrency 4): %d completed; reactor %.0f ms (%.1f ms per ending, %.1f endings/s), wall with runner writes and terminations %.0f ms",
    queued, completed, handling, handling / Double(max(completed, 1)), Double(completed) / (handling / 1000), wall))

// MARK: moto's own cost, at the instance count the drain ended with

let some = try ec2.describeInstances(maxResults: 5).instances.map(\.instanceId)
var describes: [Double] = []
var runs: [Double] = []
var transactions: [Double] = []
var queries: [Double] = []
let floorSlots = JobTable.slotsKey(job: "floor-\(id)")
for index in 0..<20 {
    describes.append(try milliseconds { _ = try ec2.describeInstances(instanceIds: [some[index % some.count]]) })
    runs.append(try milliseconds { _ = try ec2.runInstances(.init(imageId: "ami-0abcdef1234567890", instanceType: "t3.micro")) })
    let take = DynamoDB.UpdateItemInput(tableName: table, key: floorSlots, updateExpression: "ADD holders :id", expressionAttributeValues: [":id": .ss(["x\(index)"])])
    transactions.append(try milliseconds { try store.dynamoDB.transactWriteItems([.update(take)]) })
    queries.append(try milliseconds { _ = try store.runnable(job: nil, limit: 50) })
}
print("moto floor: DescribeInstances (one id)      \(summary(describes))")
print("moto floor: RunInstances                    \(summary(runs))")
print("moto floor: TransactWriteItems (1 update)   \(summary(transactions))")
print("moto floor: Query of the (empty) queue      \(summary(queries))")
server.stop()
