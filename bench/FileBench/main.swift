import AWSCore
import AWSServices
import ChunkStore
import CurlHTTP
import Foundation
import SortieTestSupport
import Synchronization

// `sortie file` on a file of many chunks, against a running `sortie dev` (its `export` lines in
// this environment): seeds one file of `--chunks` chunks through FileStore (`seedChunkedFile`:
// transactions of 100, `--done` of them ended as the processor does, the last FAILED), then
// times `sortie file ID` and `sortie file ID --json` (`--runs` each, wall time of the process),
// and counts the DynamoDB requests each makes through a counting proxy in front of moto.
//
//   file-bench --sortie PATH [--chunks 10000] [--done 20] [--runs 5]

func argument(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let at = arguments.firstIndex(of: name), at + 1 < arguments.count else { return nil }
    return arguments[at + 1]
}

func seconds(_ duration: Duration) -> Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }

guard let sortie = argument("--sortie"), let table = ProcessInfo.processInfo.environment["SORTIE_TABLE"],
      let moto = ProcessInfo.processInfo.environment["AWS_ENDPOINT_URL"]
else {
    FileHandle.standardError.write(Data("usage: file-bench --sortie PATH [--chunks N] [--done N] [--runs N], with sortie dev's exports set\n".utf8))
    exit(64)
}
let count = Int(argument("--chunks") ?? "10000") ?? 10_000
let done = min(Int(argument("--done") ?? "20") ?? 20, count - 1)
let runs = max(Int(argument("--runs") ?? "5") ?? 5, 1)

let store = FileStore(dynamoDB: DynamoDB(client: try AWSClient.fromEnvironment()), tableName: table)
let seeding = ContinuousClock.now
let fileID = try seedChunkedFile(store, chunks: count, done: done, recordsPerChunk: 300_000)
print("seeded file \(fileID): \(count) chunks (\(done) DONE, chunk \(count - 1) FAILED) in \(String(format: "%.1f", seconds(ContinuousClock.now - seeding))) s")

/// Runs `sortie` with `arguments` (through `endpoint`'s DynamoDB, if given); its wall time and stdout.
func run(_ arguments: [String], dynamoDB endpoint: String? = nil) throws -> (seconds: Double, stdout: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sortie)
    process.arguments = arguments
    var environment = ProcessInfo.processInfo.environment
    environment["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    let started = ContinuousClock.now
    try process.run()
    let text = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let elapsed = seconds(ContinuousClock.now - started)
    guard process.terminationStatus == 1 || process.terminationStatus == 0 else { throw BenchError("sortie \(arguments) exited \(process.terminationStatus)") }
    return (elapsed, String(decoding: text, as: UTF8.self))
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// A proxy in front of moto that counts DynamoDB's operations.
let operations = Mutex<[String]>([])
let proxy = try await FakeServer.start { request, _ in
    if let target = request.headers["x-amz-target"], target.hasPrefix("DynamoDB_20120810.") {
        operations.withLock { $0.append(String(target.dropFirst("DynamoDB_20120810.".count))) }
    }
    var headers = HTTPHeaders()
    for (name, value) in request.headers where !["host", "content-length", "connection", "transfer-encoding"].contains(name) { headers.set(name, value) }
    do {
        let answer = try CurlTransport().send(HTTPRequest(method: request.method, url: moto + request.path, headers: headers, body: request.body))
        var forwarded: [String: String] = [:]
        for (name, value) in answer.headers where !["content-length", "connection", "transfer-encoding"].contains(name.lowercased()) { forwarded[name] = value }
        return FakeServer.Answer(status: answer.status, headers: forwarded, body: answer.body)
    } catch {
        return FakeServer.Answer(status: 502, body: Data("\(error)".utf8))
    }
}

for (label, arguments) in [("sortie file ID", ["file", fileID]), ("sortie file ID --json", ["file", fileID, "--json"])] {
    var times: [Double] = []
    var output = ""
    for _ in 0..<runs {
        let (elapsed, stdout) = try run(arguments)
        times.append(elapsed)
        output = stdout
    }
    operations.withLock { $0 = [] }
    _ = try run(arguments, dynamoDB: proxy.endpoint)
    let sent = operations.withLock { $0 }
    let tally = Dictionary(grouping: sent, by: { $0 }).map { "\($0.value.count) \($0.key)" }.sorted().joined(separator: ", ")
    times.sort()
    let shape = arguments.contains("--json") ? "\(output.utf8.count) bytes of JSON" : "\(output.split(separator: "\n").count) lines, first: \(output.split(separator: "\n").first ?? "")"
    print("\(label): median \(String(format: "%.3f", times[times.count / 2])) s, max \(String(format: "%.3f", times.last ?? 0)) s over \(runs) runs; \(sent.count) DynamoDB requests (\(tally)); \(shape)")
}
await proxy.stop()
