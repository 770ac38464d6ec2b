@testable import DevEnvironment
import AWSServices
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// The commands that wait, run as the `sortie` executable against `sortie dev`: their progress
/// goes to stderr (a line per stage, or one rewritten line on a terminal), never into stdout.
@Suite("sortie's long waits against sortie dev")
struct WaitTests {
    @Test("submit --wait follows a job through a retry to SUCCEEDED (0), a failing one to FAILED (1), gives up at --timeout (75); cancel --wait; --quiet; a terminal gets one rewritten line")
    func waits() async throws {
        try await DevHarness.onDev { environment, _ in
            let run = try CommandTests.sortie(environment)
            let onTerminal = try CommandTests.sortie(environment, terminal: true)
            let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
            let instance = DemoStory.demoInstance
            try await story.publish(JobSpec(
                name: "wait-flaky", instance: instance, steps: [.init(name: "try", run: #"[ "$SORTIE_ATTEMPT" = 2 ]"#)], timeoutSeconds: 60,
                retry: RetryStrategy(attempts: 2)))
            try await story.publish(JobSpec(name: "wait-broken", instance: instance, steps: [.init(name: "fail", run: "exit 3")], timeoutSeconds: 60))
            try await story.publish(JobSpec(name: "wait-slow", instance: instance, steps: [.init(name: "wait", run: "exec sleep 60")], timeoutSeconds: 120))

            // Attempt 1 fails and is retried: that FAILED is not the end; attempt 2 succeeds.
            let flaky = try await run(["submit", "wait-flaky", "--wait", "--json"])
            #expect(flaky.status == 0, "\(flaky.stdout)\(flaky.stderr)")
            let record = try CommandTests.json(flaky)
            #expect(record["state"] as? String == "SUCCEEDED" && record["attempt"] as? Int == 2)
            let states = (record["history"] as? [[String: Any]])?.compactMap { $0["state"] as? String }
            #expect(states == ["SUBMITTED", "STARTING", "RUNNING", "FAILED", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"])
            // stderr: one line per transition as it happened, each with the time waited; no carriage returns.
            let lines = flaky.stderr.split(separator: "\n").map(String.init)
            #expect(!flaky.stderr.contains("\r"))
            #expect(lines.allSatisfy { $0.range(of: #"^\[\d+\.\ds\] "#, options: .regularExpression) != nil }, "\(lines)")
            let reported = lines.compactMap { line in JobState.allCases.first { line.contains(" \($0.rawValue): ") }?.rawValue }
            #expect(reported == states, "\(lines)")
            #expect(lines.last?.hasSuffix("finished SUCCEEDED") == true)

            let broken = try await run(["submit", "wait-broken", "--wait"])
            #expect(broken.status == 1, "\(broken.stdout)\(broken.stderr)")
            #expect(broken.stdout.contains(": FAILED, attempt 1") && broken.stderr.contains("finished FAILED"), "\(broken.stdout)\(broken.stderr)")

            // Gives up at --timeout with 75 while the job goes on; cancel --wait then sees it end.
            let waited = try await run(["submit", "wait-slow", "--wait", "--timeout", "2"])
            #expect(waited.status == 75, "\(waited.stdout)\(waited.stderr)")
            #expect(waited.stderr.contains("gave up after 2s: job") && waited.stdout.isEmpty)
            let slowID = try #require(waited.stderr.split(separator: " ").first { $0.count == 36 }.map(String.init), "\(waited.stderr)")
            _ = try await story.settled(slowID) { $0.state == .running }
            let cancelled = try await run(["cancel", slowID, "--wait", "--json"])
            #expect(cancelled.status == 0, "\(cancelled.stdout)\(cancelled.stderr)")
            #expect(try CommandTests.json(cancelled)["state"] as? String == "FAILED")
            #expect(try await run(["submit", "wait-slow", "--wait", "--timeout", "0"]).status == 64)

            // --quiet: nothing on stderr, the same result on stdout.
            let quiet = try await run(["submit", "wait-broken", "--wait", "--json", "--quiet"])
            #expect(quiet.status == 1 && quiet.stderr.isEmpty, "\(quiet.stderr)")
            #expect(try CommandTests.json(quiet)["state"] as? String == "FAILED" && CommandTests.json(quiet)["exitCode"] as? Int == 3)

            // A terminal: the stages rewrite one line (\r, then clear to its end), ended once.
            let terminal = try await onTerminal(["submit", "wait-flaky", "--wait"])
            #expect(terminal.status == 0, "\(terminal.stdout)")
            let shown = try #require(terminal.stdout.components(separatedBy: "finished SUCCEEDED").first)
            #expect(shown.components(separatedBy: "\r[").count - 1 >= states?.count ?? 8, "every stage rewrites the line: \(shown)")
            #expect(shown.contains("\u{1B}[K") && !shown.contains("\n"), "one line until the end: \(shown)")
        }
    }

    @Test("put sends a big file in parts, showing the bytes sent; the object is the file")
    func bigPut() async throws {
        try await DevHarness.onDev { environment, workspace in
            let run = try CommandTests.sortie(environment)
            let file = workspace.appendingPathComponent("big.bin")
            try FileManager.default.createDirectory(at: workspace, withIntermediateDirectories: true)
            let body = Data((0..<(9 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 12) })
            try body.write(to: file)
            let put = try await run(["put", file.path, "s3://sortie-dev/uploads/", "--json"])
            #expect(put.status == 0, "\(put.stderr)")
            let answer = try CommandTests.json(put)
            #expect(answer["parts"] as? Int == 2 && answer["size"] as? Int == body.count && answer["key"] as? String == "uploads/big.bin")
            #expect(put.stderr.contains("uploading 9.4 MB to s3://sortie-dev/uploads/big.bin in 2 parts\n") && put.stderr.contains("uploaded 9.4 MB in 2 parts\n"))
            let client = environment.client
            let stored = try await blocking { try S3(client: client).getObject(bucket: "sortie-dev", key: "uploads/big.bin").body }
            #expect(stored == body)

            let terminal = try await CommandTests.sortie(environment, terminal: true)(["put", file.path, "s3://sortie-dev/uploads/again.bin"])
            #expect(terminal.status == 0)
            #expect(terminal.stdout.contains("8.4 MB / 9.4 MB (88%)") && terminal.stdout.contains("9.4 MB / 9.4 MB (100%)"), "\(terminal.stdout)")
        }
    }
}

@Suite("sortie dev's start-up, as a person runs it")
struct DevStartTests {
    @Test("sortie dev shows each start-up stage on stderr, then prints the settings to stdout at once (a pipe gets them before it stops); SIGINT stops it")
    func startUp() async throws {
        let folder = DevHarness.workspace()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (out, err) = (folder.appendingPathComponent("stdout"), folder.appendingPathComponent("stderr"))
        for file in [out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("sortie"))
        process.arguments = ["dev", "--repository", Repository.root.path, "--products", BuiltProducts.directory.path]
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: Repository.root.appendingPathComponent(".sortie/dev-\(process.processIdentifier)"))
        }
        func text(_ file: URL) -> String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        try await DevHarness.eventually(timeout: .seconds(60)) { text(out).contains("export SORTIE_TABLE='sortie-jobs'") }
        // The report page, live on its own loopback port, printed with the rest (in name order: before the table).
        #expect(text(out).range(of: #"  export SORTIE_REPORT_URL='http://127\.0\.0\.1:[0-9]+/report'\n"#, options: .regularExpression) != nil, "\(text(out))")
        let stages = text(err).split(separator: "\n").filter { $0.hasPrefix("[") }.map { $0.drop { $0 != " " }.dropFirst() }
        // The broker comes first (the definitions name its address), then moto and its resources.
        #expect(stages.first?.hasPrefix("starting a Kafka broker (tansu)") == true || stages.first?.hasPrefix("no tansu") == true, "\(text(err))")
        let moto = stages.firstIndex(of: "starting moto")
        #expect(moto.map { Array(stages[$0...].prefix(2)) } == ["starting moto", "creating the table, buckets, queues, topic, log group and Batch queue in moto"])
        #expect(stages.contains("starting the launcher function") && stages.last == "sortie dev is up", "\(text(err))")
        process.interrupt()
        try await DevHarness.eventually(timeout: .seconds(30)) { !process.isRunning }
        #expect(process.terminationStatus == 0 && text(out).contains("sortie dev: stopping"))
    }
}
