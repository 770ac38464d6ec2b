@testable import DevEnvironment
import AWSServices
import ChunkStore
import DevTestSupport
import Foundation
import JobModel
import SortieTestSupport
import Testing

/// The operator commands, run as the `sortie` executable against `sortie dev` with the settings it prints.
@Suite("sortie's operator commands against sortie dev")
struct CommandTests {
    @Test("submit, describe, logs, cancel, put and file, with --json and meaningful exit codes")
    func commands() async throws {
        try await DevHarness.onDev(exercise)
    }

    /// `sortie ARGUMENTS…` with the settings `sortie dev` prints; on `terminal`, under `script`'s
    /// pseudo-terminal (stdout and stderr both come back as stdout).
    static func sortie(_ environment: DevEnvironment, terminal: Bool = false) throws -> @Sendable ([String]) async throws -> Command.Result {
        let sortie = try BuiltProducts.executable("sortie")
        let settings = environment.environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "USER": "tester"]) { $1 }
        return { arguments in
            let quoted = ([sortie] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }.joined(separator: " ")
            let (program, argv) = terminal ? ("/usr/bin/script", ["-qec", quoted, "/dev/null"]) : (sortie, arguments)
            return try await blocking { try Command.run(program, argv, environment: settings, timeout: .seconds(60)) }
        }
    }

    static func json(_ result: Command.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
    }

    private func exercise(_ environment: DevEnvironment, workspace: URL) async throws {
        let run = try Self.sortie(environment)
        let json = Self.json
        let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
        let quick = JobSpec(
            name: "cli-quick", instance: DemoStory.demoInstance, arguments: ["who": .init(defaultValue: "nobody")],
            steps: [.init(name: "greet", run: #"echo "hello $SORTIE_ARG_who""#)], timeoutSeconds: 60)
        let slow = JobSpec(name: "cli-slow", instance: DemoStory.demoInstance, steps: [.init(name: "wait", run: "exec sleep 60")], timeoutSeconds: 120)
        try await story.publish(quick)
        try await story.publish(slow)

        // submit → the launcher's answer; describe → the timeline; logs → the step's output.
        let submitted = try await run(["submit", "cli-quick", "--arg", "who=operator", "--json"])
        #expect(submitted.status == 0, "\(submitted.stderr)")
        let id = try #require(try json(submitted)["jobId"] as? String)
        let launchedOn = try #require(try json(submitted)["instanceId"] as? String)
        let record = try await story.settled(id) { $0.state.isFinal }
        #expect(record.state == .succeeded)
        // The runner asked the instance's metadata service (the agent's stand-in) which instance it is on.
        #expect(record.instanceID == launchedOn)
        #expect(record.history.contains { $0.state == .running && $0.reason == "Runner started on instance \(launchedOn)" }, "\(record.history)")
        let described = try await run(["describe", id, "--json"])
        #expect(try json(described)["state"] as? String == "SUCCEEDED")
        #expect((try json(described)["history"] as? [[String: Any]])?.map { $0["state"] as? String } == ["SUBMITTED", "STARTING", "RUNNING", "SUCCEEDED"])
        let text = try await run(["describe", id])
        #expect(text.status == 0 && text.stdout.contains("cli-quick \(id): SUCCEEDED, attempt 1") && text.stdout.contains("All 1 steps succeeded"))
        let logs = try await run(["logs", id, "--follow"])
        #expect(logs.status == 0 && logs.stdout.contains("hello operator"), "\(logs.stdout)\(logs.stderr)")

        // Errors: an unknown job fails with status 1 and says why; a bad argument is a usage error.
        let unknown = try await run(["describe", "no-such-job"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no job no-such-job"))
        let bad = try await run(["submit", "cli-quick", "--arg", "novalue"])
        #expect(bad.status == 64)
        #expect(try await run(["submit", "no-such-spec"]).status == 1)

        // cancel a running job: its instance is terminated, the agent stops it, the reactor records it FAILED.
        let slowID = try #require(try json(try await run(["submit", "cli-slow", "--json"]))["jobId"] as? String)
        _ = try await story.settled(slowID) { $0.state == .running }
        let cancelled = try await run(["cancel", slowID, "--json"])
        #expect(cancelled.status == 0, "\(cancelled.stderr)")
        #expect(try json(cancelled)["cancelled"] as? Bool == true)
        let ended = try await story.settled(slowID) { $0.state.isFinal }
        #expect(ended.state == .failed)
        #expect(try await run(["cancel", slowID]).status == 1, "an ended job cannot be cancelled")

        // jobs: the table, filtered by kind and state.
        let listed = try json(try await run(["jobs", "--json"]))["jobs"] as? [[String: Any]]
        #expect(listed?.map { $0["id"] as? String } == [id, slowID])
        #expect(listed?.first?["instanceId"] as? String == launchedOn)
        let failed = try json(try await run(["jobs", "--state", "failed", "--json"]))["jobs"] as? [[String: Any]]
        #expect(failed?.map { $0["id"] as? String } == [slowID])
        #expect((try json(try await run(["jobs", "--job", "cli-quick", "--json"]))["jobs"] as? [[String: Any]])?.count == 1)
        let table = try await run(["jobs"])
        #expect(table.stdout.split(separator: "\n").first?.hasPrefix("ID") == true && table.stdout.contains("\(id)  cli-quick  1        SUCCEEDED"))
        #expect(try await run(["jobs", "--state", "sleeping"]).status == 64)

        // put: the object lands and, in dev, the bucket's function gets S3's event.
        let file = workspace.appendingPathComponent("orders.csv")
        try Data("order_id,customer,email,amount,currency,ordered_on,paid,note\n1,C00000001,,1.00,EUR,2026-11-20,,\n".utf8).write(to: file)
        let put = try await run(["put", file.path, "s3://sortie-landing/incoming/orders/", "--repository", Repository.root.path, "--json"])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(try json(put)["key"] as? String == "incoming/orders/orders.csv" && json(put)["parts"] as? Int == 0)
        let submitter = try #require((try json(put)["delivered"] as? [String: Any])?["s3-submitter"] as? [String: Any])
        #expect((submitter["files"] as? [[String: Any]])?.first?["status"] as? String == "submitted")

        // file: the upload's way through the chunks, by its id or its key; --wait until COMPLETE.
        let fileID = try #require((submitter["files"] as? [[String: Any]])?.first?["fileId"] as? String)
        let followed = try await run(["file", fileID, "--wait", "--timeout", "60", "--json"])
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(try json(followed)["state"] as? String == "COMPLETE" && json(followed)["delivered"] as? Int == 1)
        let chunk = try #require((try json(followed)["chunks"] as? [[String: Any]])?.first)
        #expect(chunk["route"] as? String == "lambda" && chunk["state"] as? String == "DONE")
        #expect((chunk["counts"] as? [String: Any])?["read"] as? Int == 1)
        #expect(followed.stderr.contains("chunk 0: records 0..<1 → lambda"), "progress on stderr: \(followed.stderr)")
        let byKey = try await run(["file", "s3://sortie-landing/incoming/orders/orders.csv"])
        #expect(byKey.status == 0, "\(byKey.stderr)")
        #expect(byKey.stdout.hasPrefix("file \(fileID) s3://sortie-landing/incoming/orders/orders.csv: COMPLETE, 1 record in 1 chunk, 1 done: 1 delivered, 0 rejected"))
        #expect(byKey.stdout.contains("  chunk 0: records 0..<1 → lambda DONE: 1 delivered, 0 rejected"))
        // A file of more chunks than are shown: its counts from its item, the first 100 chunks (the one that
        // failed the file among them) and how many more; --chunks lists every one, page by page.
        let files = FileStore(dynamoDB: DynamoDB(client: environment.client), tableName: environment.resources.table)
        let big = try await blocking { try seedChunkedFile(files, chunks: 150, done: 3) }
        let shown = try await run(["file", big])
        let lines: [String] = shown.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "file \(big) s3://sortie-landing/incoming/orders/chunked-150.csv: FAILED, 1500 records in 150 chunks, 3 done: 27 delivered, 3 rejected, 1 failed", "\(shown.stdout)\(shown.stderr)")
        #expect(lines.count == 102 && lines[1].hasPrefix("  chunk 0: records 0..<10 → batch DONE: 9 delivered, 1 rejected"))
        #expect(lines[100].hasPrefix("  chunk 149: records 1490..<1500 → batch FAILED — seeded: failed for good") && lines[101] == "  … 50 more chunks (--chunks lists every one)")
        let shownJSON = try json(try await run(["file", big, "--json"]))
        #expect((shownJSON["chunks"] as? [[String: Any]])?.count == 100 && shownJSON["moreChunks"] as? Int == 50 && shownJSON["chunkCount"] as? Int == 150)
        #expect(shownJSON["chunksDone"] as? Int == 3 && shownJSON["chunksFailed"] as? Int == 1 && shownJSON["failedChunk"] as? Int == 149)
        #expect(shownJSON["delivered"] as? Int == 27 && (shownJSON["counts"] as? [String: Any])?["read"] as? Int == 30)
        let every = try await run(["file", big, "--chunks"])
        let everyLines: [String] = every.stdout.split(separator: "\n").map(String.init)
        #expect(everyLines.count == 151 && everyLines.last?.hasPrefix("  chunk 149: ") == true, "\(every.stdout)\(every.stderr)")
        let everyJSON = try json(try await run(["file", big, "--chunks", "--json"]))
        #expect((everyJSON["chunks"] as? [[String: Any]])?.compactMap { $0["index"] as? Int } == Array(0..<150) && everyJSON["moreChunks"] as? Int == 0)
        let missing = try await run(["file", "s3://sortie-landing/incoming/none.csv"])
        #expect(missing.status == 1 && missing.stderr.contains("no file planned from s3://sortie-landing/incoming/none.csv"))
        #expect(try await run(["file", "s3://no-key"]).status == 64)

        // report: the page of these jobs and this file, written; and served live by sortie dev.
        let page = workspace.appendingPathComponent("report.html")
        let report = try await run(["report", "--since", "1h", "--out", page.path, "--json"])
        #expect(report.status == 0, "\(report.stderr)")
        // The upload and the seeded file of 150 chunks.
        #expect(try json(report)["jobs"] as? Int == 2 && json(report)["attempts"] as? Int == 2 && json(report)["files"] as? Int == 2, "\(report.stdout)")
        let html = try String(contentsOf: page, encoding: .utf8)
        #expect(try json(report)["bytes"] as? Int == html.utf8.count)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<script id="report-data" type="application/zlib+base64">"#))
        #expect(try await run(["report", "--since", "soon"]).status == 64)
        let url = try #require(environment.environment["SORTIE_REPORT_URL"])
        #expect(url.hasPrefix("http://127.0.0.1:") && url.hasSuffix("/report"))
        let served = try await blocking { try Command.run("/usr/bin/curl", ["-sS", "--max-time", "30", url], timeout: .seconds(40)) }
        #expect(served.status == 0 && served.stdout.hasPrefix("<!DOCTYPE html>") && served.stdout.contains(#"<script id="report-data""#), "\(served.stderr)")
        let data = try await blocking { try Command.run("/usr/bin/curl", ["-sS", "--max-time", "30", url + ".json"], timeout: .seconds(40)) }
        let fresh = try #require(try JSONSerialization.jsonObject(with: Data(data.stdout.utf8)) as? [String: Any], "\(data.stdout)\(data.stderr)")
        let states = Dictionary(uniqueKeysWithValues: (fresh["jobs"] as? [[String: Any]] ?? []).map { ($0["id"] as? String ?? "", $0["state"] as? String ?? "") })
        #expect(states == [id: "SUCCEEDED", slowID: "FAILED"] && fresh["live"] as? String == "/report.json")
        let cancelledJob = (fresh["jobs"] as? [[String: Any]])?.first { $0["id"] as? String == slowID }
        #expect(cancelledJob?["reason"] as? String == "Cancelled by tester", "the cancelled job's reason, the cancel's over the runner's SIGTERM one: \(cancelledJob ?? [:])")
    }
}
