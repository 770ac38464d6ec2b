import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import Foundation
import LocalAWS
import RecordFormats
import S3Submitter
import SimulatedObjects
import SortieTestSupport

// Planning a simulated object of any size, as `s3-submitter` does it, through continuations:
// the object is served by the S3 stand-in on loopback (generated for each range, never stored),
// the job table is moto's, Lambda's Invoke is a loopback endpoint that keeps the payloads. Each
// invocation gets `--timeout` seconds; the run hands over (to the next generation, delivered
// here as Lambda would) until the file is planned. Then the plan is checked against the
// generator: record count, and every chunk's boundaries (first record's offset and line).
//
//   planning-bench --size 20G [--format csv|csv.gz|csv.gz1|jsonl] [--timeout 60]

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return nil }
    return arguments[at + 1]
}

func bytes(_ text: String) -> Int64? {
    let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    guard let last = text.last else { return nil }
    if let unit = units[last] { return Int64(text.dropLast()).map { $0 * unit } }
    return Int64(text)
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func maxResidentMB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

guard let sizeText = argument("--size"), let size = bytes(sizeText) else {
    FileHandle.standardError.write(Data("usage: planning-bench --size SIZE [--format csv|csv.gz|csv.gz1|jsonl] [--timeout SECONDS]\n".utf8))
    exit(64)
}
let formatName = argument("--format") ?? "csv"
let timeout = Int64(argument("--timeout") ?? "60") ?? 60
let readAhead = Int(argument("--read-ahead") ?? "4") ?? 4
let (format, compression): (SimulatedFormat, SimulatedObject.Compression) = switch formatName {
case "jsonl": (.jsonLines, .none)
case "csv.gz": (.csv, .gzip)
case "csv.gz1": (.csv, .gzipOneMember)
default: (.csv, .none)
}
let object = SimulatedObject(format: format, compression: compression, size: size)
print("object: \(formatName), \(object.size) bytes (stream \(object.streamSize)), \(object.records) records; invocations of \(timeout) s, read-ahead \(readAhead)")

let moto = try MotoServer.serialized()
let stand = try await SimulatedS3.start()
let invokes = try await FakeServer.start { _, _ in FakeServer.Answer(status: 202) }
let suffix = UUID().uuidString.prefix(8).lowercased()
let (table, bucket, key) = ("bench-jobs-\(suffix)", "bench-\(suffix)", "incoming/simulated.\(formatName)")
stand.put(bucket: bucket, key: key, object)
let environment = moto.environment.merging([
    "AWS_ENDPOINT_URL_S3": stand.endpoint, "AWS_ENDPOINT_URL_LAMBDA": invokes.endpoint, "AWS_LAMBDA_FUNCTION_NAME": "s3-submitter",
    "SORTIE_TABLE": table, "CHUNK_PROCESSOR_FUNCTION": "chunk-processor", "BATCH_JOB_QUEUE": "unused", "BATCH_JOB_DEFINITION": "unused",
    // Every chunk to Lambda: Batch is not what is measured here (moto's Batch needs a compute environment).
    "BATCH_PROCESSING_THRESHOLD": "1000000000", "READ_AHEAD": String(readAhead),
    "PLAN_MARGIN_SECONDS": argument("--margin") ?? String(max(2, timeout / 6)),
]) { $1 }
let client = try AWSClient.fromEnvironment(AWSEnvironment(environment))
try createJobTable(client, table)
let configuration = try SubmitterConfiguration.fromEnvironment(environment)
let jobTable = FileStore(dynamoDB: DynamoDB(client: client), tableName: table)
let submitter = Submitter(s3: S3(client: client), lambda: LambdaInvoke(client: client), batch: Batch(client: client), table: jobTable, configuration: configuration)
let feed = Feed(
    name: "simulated", prefix: "incoming/", format: format == .csv ? "csv" : "jsonl", fields: [],
    destination: .s3(S3Location(bucket: bucket)), rejects: S3Location(bucket: bucket))

func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

let clock = ContinuousClock()
let began = clock.now
let cpuBefore = cpuSeconds()
var outcome = try submitter.submit(
    ObjectCreated(bucket: bucket, key: key, size: object.size, eTag: object.eTag, sequencer: "01"), feed: feed, now: now(), deadline: now() + timeout * 1000)
var continuations = 0
let fileID = outcome.fileID ?? ""
while outcome.status == .continued {
    let state = try jobTable.loadPlanning(fileID)
    continuations += 1
    let offset = state?.checkpoint?.offset ?? 0
    print("continuation \(continuations): checkpoint \(state?.sequence ?? 0) at byte \(offset) (\(String(format: "%.1f", Double(offset) * 100 / Double(object.streamSize)))%), \(state?.checkpoint?.records ?? 0) records, \(state?.checkpoint?.chunksPlanned ?? 0) chunks, \(String(format: "%.1f", seconds(began.duration(to: clock.now)))) s")
    let started = now()
    outcome = try submitter.plan(fileID: fileID, generation: continuations, feeds: FeedCatalog(feeds: [feed]), started: started, deadline: started + timeout * 1000)
}
let wall = seconds(began.duration(to: clock.now))
let cpu = cpuSeconds() - cpuBefore

// The check: the file's totals, and every chunk against the generator.
let planned = try jobTable.chunks(fileID: fileID, from: 0, to: 99_999).map(\.spec)
let file = try jobTable.fileItem(fileID)
var differences: [String] = []
if outcome.status != .submitted { differences.append("the plan ended \(outcome.status.rawValue): \(outcome.reason ?? "")") }
if file?.plan.records != object.records { differences.append("records \(file?.plan.records ?? -1), the generator says \(object.records)") }
if planned.reduce(0, { $0 + $1.recordCount }) != object.records { differences.append("chunks hold \(planned.reduce(0) { $0 + $1.recordCount }) records") }
for (position, chunk) in planned.enumerated() {
    let first = object.record(chunk.firstRecord)
    if chunk.index != position || chunk.start != first.start || chunk.startLine != first.line || chunk.end != object.record(chunk.firstRecord + chunk.recordCount).start {
        differences.append("chunk \(position): \(chunk.start) line \(chunk.startLine), the generator says \(first.start) line \(first.line)")
    }
}
let invoked = invokes.requests.filter { $0.path.contains("chunk-processor") }.count
if invoked != planned.count { differences.append("\(invoked) chunk invocations for \(planned.count) chunks") }

let streamMB = Double(object.streamSize) / 1e6
let objectMB = Double(object.size) / 1e6
print(String(format: "throughput: %.0f MB/s of stream (%.0f MB/s of object) wall, %.0f records/s; CPU %.1f s for %.1f s wall (planner, stand-in and moto's client side in one process)", streamMB / wall, objectMB / wall, Double(object.records) / wall, cpu, wall))
print(String(format: "per core: %.0f MB/s of stream, %.0f records/s per CPU second", streamMB / cpu, Double(object.records) / cpu))
print(String(format: "memory high-water mark: %.0f MB (max RSS of this process, stand-in included)", maxResidentMB()))
let s3Rate = 100.0 * Double(readAhead)
let projected = max(objectMB / s3Rate, streamMB / (streamMB / cpu))
print(String(format: "projected on S3 at 100 MB/s per stream × %d in flight: %.0f s reading, %.0f s planning CPU → about %.0f s (%.1f h), %d invocations of %lld s", readAhead, objectMB / s3Rate, cpu, projected, projected / 3600, Int(projected / Double(max(1, timeout - max(2, timeout / 6)))) + 1, timeout))
print("planned: \(file?.plan.records ?? 0) records, \(planned.count) chunks, \(continuations) continuations, " + (differences.isEmpty ? "exact" : "DIFFERS: " + differences.prefix(5).joined(separator: "; ")))
await stand.stop()
await invokes.stop()
moto.stop()
exit(differences.isEmpty ? 0 : 1)
