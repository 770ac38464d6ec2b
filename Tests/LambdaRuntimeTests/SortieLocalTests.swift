import Foundation
import SortieTestSupport
import Testing

/// The `sortie-local invoke` command as users and scripts run it.
@Suite("sortie-local invoke")
struct SortieLocalTests {
    struct Run {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs the built tool, bounded in time, feeding `stdin`.
    func sortieLocal(_ arguments: [String], stdin: Data = Data()) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("sortie-local"))
        process.arguments = arguments
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: output.fileHandleForReading.readDataToEndOfFile(),
                   stderr: String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test("an event on stdin comes back byte for byte, exit 0")
    func stdinEcho() throws {
        let payload = Data("{\"rows\": [1, 2, 3], \"name\": \"Zoë\"}\n".utf8)
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("echo")], stdin: payload)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == payload)
    }

    @Test("--event files and --count: each response in order, one per line")
    func eventFilesAndCount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("a.json"), second = folder.appendingPathComponent("b.json")
        try Data(#"{"a":1}"#.utf8).write(to: first)
        try Data(#"{"b":2}"#.utf8).write(to: second)
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("echo"), "--event", first.path, "--event", second.path, "--count", "2"])
        #expect(run.status == 0)
        #expect(String(decoding: run.stdout, as: UTF8.self) == #"{"a":1}"# + "\n" + #"{"b":2}"# + "\n" + #"{"a":1}"# + "\n" + #"{"b":2}"#)
    }

    @Test("a function error prints the error JSON and exits 1")
    func functionError() throws {
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("echo")], stdin: Data(#"{"fail": true}"#.utf8))
        #expect(run.status == 1)
        let report = try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any]
        #expect(report?["errorType"] as? String == "EchoFailure")
        #expect(run.stderr.contains("EchoFailure"))
    }

    @Test("an init error is said on stderr, exit 2")
    func initError() throws {
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("RuntimeProbe"), "--env", "PROBE_FAIL_INIT=1"],
                                  stdin: Data(#"{"action":"report"}"#.utf8))
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("failed to initialise (ProbeInitFailure)"))
    }

    @Test("--concurrency 4 runs eight 200 ms invocations four at a time")
    func concurrency() throws {
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("RuntimeProbe"), "--count", "8", "--concurrency", "4"],
                                  stdin: Data(#"{"action":"sleep","milliseconds":200}"#.utf8))
        #expect(run.status == 0, "\(run.stderr)")
        let ids = String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["requestID"] as? String
        }
        #expect(Set(ids).count == 8)
        // The function's log lines (text format: time, request id, level, message) pass through on stderr.
        let messages = run.stderr.split(separator: "\n").compactMap { $0.split(separator: "\t").dropFirst(3).first.map(String.init) }
        #expect(mostAtOnce(messages) == 4, "\(run.stderr)")
    }

    @Test("a streamed response is printed as it arrives; a mid-stream error exits 1 with its report")
    func streamedResponse() throws {
        let probe = try BuiltProducts.executable("StreamProbe")
        // Under the pipe's 64 KB: the helper reads stdout once the tool has exited.
        let run = try sortieLocal(["invoke", probe], stdin: Data(#"{"bytes":50000,"chunk":5000}"#.utf8))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == Data((0..<50_000).map { UInt8($0 % 251) }))

        let failed = try sortieLocal(["invoke", probe], stdin: Data(#"{"bytes":300000,"failAfter":1000}"#.utf8))
        #expect(failed.status == 1)
        #expect(failed.stdout.prefix(1_000) == Data((0..<1_000).map { UInt8($0 % 251) }))
        let report = try JSONSerialization.jsonObject(with: failed.stdout.dropFirst(1_000)) as? [String: Any]
        #expect(report?["errorType"] as? String == "StreamProbeFailure")
    }

    @Test("bad arguments are refused before anything starts")
    func badArguments() throws {
        let run = try sortieLocal(["invoke", try BuiltProducts.executable("echo"), "--count", "0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--count must be at least 1"))
    }
}
