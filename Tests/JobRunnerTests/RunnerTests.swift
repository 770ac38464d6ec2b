import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing
import WallTime

/// `sortie-runner` as EC2 runs it (`run PAYLOAD`, reporting to moto) and as a developer does (`--local`).
@Suite("The runner", .serialized)
struct RunnerTests {
    /// A job record made STARTING the way the launcher makes it, and the payload its instance gets.
    private func startingJob(_ deployment: Deployment, _ spec: JobSpec, heartbeat: Int = 60) async throws -> RunnerPayload {
        let record = JobRecord(id: UUID().uuidString.lowercased(), job: spec.name, parameters: ["day": "2024-05-01"], submittedAt: WallClock.unixMilliseconds())
        let started = try await blocking { () throws -> JobStore.StartResult in
            _ = try deployment.store.submit(record, eventID: "runner-\(record.id)")
            return try deployment.store.start(record, maxConcurrency: 1, globalLimit: 100)
        }
        guard case .started = started else { throw MotoServer.MotoError.notStarted("the job did not start: \(started)") }
        return RunnerPayload(jobID: record.id, attempt: 1, arguments: record.parameters, spec: spec, reporting: ReportingConfiguration(
            table: deployment.table, logGroup: deployment.logGroup, logBucket: deployment.bucket, logPrefix: "logs/", region: MotoServer.region,
            heartbeatSeconds: heartbeat))
    }

    /// A folder standing in for /opt/sortie, with the payload written where UserData puts it.
    private func home(_ payload: RunnerPayload) throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try JSONEncoder.sorted.encode(payload).write(to: home.appendingPathComponent("job.json"))
        return home
    }

    private func environment(_ deployment: Deployment, home: URL) throws -> [String: String] {
        try deployment.runnerEnvironment.merging([
            "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home.path, "SORTIE_HOME": home.path,
            "SORTIE_SHUTDOWN_COMMAND": "touch '\(home.path)/shutdown-ran'",
        ]) { $1 }
    }

    @Test("on EC2 the runner reports RUNNING, heartbeats, ships the output to CloudWatch Logs and S3, writes the final record and frees the slot, then shuts down")
    func succeeds() async throws {
        let deployment = try await Deployment.create()
        let spec = testSpec(Deployment.uniqueName("runs"), steps: [
            .init(name: "greet", run: #"echo "hello $SORTIE_ARG_day from $SORTIE_JOB""#),
            .init(name: "wait", run: "sleep 2.5; echo 'waited'", timeoutSeconds: 20),
        ])
        let payload = try await startingJob(deployment, spec, heartbeat: 1)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", home.appendingPathComponent("job.json").path],
                                  environment: try environment(deployment, home: home), timeout: .seconds(60))
        #expect(run.status == 0, "\(run.stderr)")

        let record = try #require(try await deployment.record(payload.jobID))
        #expect(record.state == .succeeded)
        #expect(record.statusReason == "All 2 steps succeeded")
        #expect(record.exitCode == 0 && record.failingStep == nil)
        #expect((record.durationMilliseconds ?? 0) >= 2500)
        #expect(record.history.map(\.state) == [.submitted, .starting, .running, .succeeded])
        #expect((record.heartbeatAt ?? 0) > (record.history.first { $0.state == .running }?.at ?? .max), "no heartbeat after RUNNING")
        #expect(try await deployment.slotHolders(job: spec.name).isEmpty)
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path))

        let key = "logs/\(spec.name)/\(payload.jobID)/attempt-1.log"
        let log = try await blocking { try S3(client: deployment.client).getObject(bucket: deployment.bucket, key: key).body }
        let text = String(decoding: log, as: UTF8.self)
        #expect(text.contains("hello 2024-05-01 from \(spec.name)\n"))
        #expect(text.contains("[sortie] step 2/2 'wait' started\nwaited\n"))
        #expect(try await deployment.item(JobTable.jobKey(payload.jobID))?["logUri"] == .s("s3://\(deployment.bucket)/\(key)"))
        let events = try await blocking {
            try CloudWatchLogs(client: deployment.client).getLogEvents(group: deployment.logGroup, stream: "\(spec.name)/\(payload.jobID)/attempt-1")
        }
        #expect(events.map(\.message).contains("hello 2024-05-01 from \(spec.name)"))
        #expect(events.map(\.message).contains("waited"))
    }

    @Test("random binary output and a 64 MB line: every CloudWatch event within 256 KiB and every batch within 1,048,576 bytes as AWS counts them, nothing lost; the log streamed to S3 in 8 MiB parts, the runner's memory bounded")
    func binaryOutputAndBigLog() async throws {
        let deployment = try await Deployment.create()
        let logs = try await FakeServer.start { _, _ in .json(200, "{}") }
        let spec = testSpec(Deployment.uniqueName("noise"), steps: [
            // Minutes of room: a debug runner on a loaded 2-core machine once needed more than two.
            .init(name: "noise", run: "head -c 3000000 /dev/urandom; head -c 64000000 /dev/zero | tr '\\0' x; echo", timeoutSeconds: 280),
        ])
        let payload = try await startingJob(deployment, spec)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        // The runner under a parent that reports its children's peak resident memory.
        let measure = "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]).returncode; print('maxrss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r)"
        var environment = try environment(deployment, home: home)
        environment["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = logs.endpoint
        let run = try Command.run("/usr/bin/python3", ["-c", measure, try BuiltProducts.executable("sortie-runner"), "run", home.appendingPathComponent("job.json").path],
                                  environment: environment, timeout: .seconds(360))
        #expect(run.status == 0, "\(run.stderr.suffix(3000))")
        let peak = try #require(run.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss-kib ") }.flatMap { Int($0.dropFirst(11)) })
        print("sortie-runner peak RSS with a 67 MB log: \(peak / 1024) MiB")
        #expect(peak < 48 * 1024, "the runner held \(peak / 1024) MiB for a 67 MB log")

        let key = "logs/\(spec.name)/\(payload.jobID)/attempt-1.log"
        let log = try await blocking { try S3(client: deployment.client).getObject(bucket: deployment.bucket, key: key).body }
        #expect(log.count > 67_000_000)

        struct Batch: Decodable {
            struct Event: Decodable { var timestamp: Int64; var message: String }
            var logEvents: [Event]
        }
        let batches = logs.requests.filter { $0.headers["x-amz-target"]?.hasSuffix("PutLogEvents") == true }
            .compactMap { try? JSONDecoder().decode(Batch.self, from: $0.body) }
        #expect(batches.count > 60)
        for batch in batches {
            #expect(batch.logEvents.count <= 10_000)
            #expect(batch.logEvents.reduce(0) { $0 + $1.message.utf8.count + 26 } <= 1_048_576)
            #expect(batch.logEvents.allSatisfy { !$0.message.isEmpty && $0.message.utf8.count + 26 <= 262_144 })
            #expect(zip(batch.logEvents, batch.logEvents.dropFirst()).allSatisfy { $0.timestamp <= $1.timestamp })
        }
        // Every line of the S3 copy, decoded as UTF-8, is in the events in order (an empty line as one space).
        // (On bytes: "\r\n" is one Character, so a String split on "\n" would not cut there.)
        var lines = Array(String(decoding: log, as: UTF8.self).utf8).split(separator: 0x0A, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let expected = lines.flatMap { $0.isEmpty ? [0x20] : Array($0) }
        let shipped = batches.flatMap(\.logEvents).flatMap { Array($0.message.utf8) }
        let differs = zip(shipped, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? (shipped.count == expected.count ? nil : min(shipped.count, expected.count))
        #expect(differs == nil, "the events hold the log's text: \(shipped.count) bytes shipped, \(expected.count) expected, first difference at \(differs ?? -1): \(shipped[max(0, (differs ?? 0) - 20)..<min(shipped.count, (differs ?? 0) + 20)]) vs \(expected[max(0, (differs ?? 0) - 20)..<min(expected.count, (differs ?? 0) + 20)])")
        await logs.stop()
    }

    @Test("a failing step ends the job FAILED with its exit code, name and reason; later steps do not run")
    func failingStep() async throws {
        let deployment = try await Deployment.create()
        let spec = testSpec(Deployment.uniqueName("fails"), steps: [
            .init(name: "ok", run: "echo fine"),
            .init(name: "broken", run: "echo 'about to fail' >&2; exit 3"),
            .init(name: "never", run: "touch \"$SORTIE_HOME/never-ran\""),
        ])
        let payload = try await startingJob(deployment, spec)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", home.appendingPathComponent("job.json").path],
                                  environment: try environment(deployment, home: home), timeout: .seconds(60))
        #expect(run.status == 1)
        let record = try #require(try await deployment.record(payload.jobID))
        #expect(record.state == .failed)
        #expect(record.exitCode == 3 && record.failingStep == "broken")
        #expect(record.statusReason == "Step 'broken' failed")
        #expect(record.reason == "Step 'broken' exited with status 3")
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("never-ran").path))
        #expect(try await deployment.slotHolders(job: spec.name).isEmpty)
        #expect(spec.retry.shouldRetry(attempt: 1, exitCode: record.exitCode, statusReason: record.statusReason, reason: record.reason) == false)
    }

    @Test("SIGTERM (a spot interruption) stops the step and records the attempt as interrupted, in AWS Batch's words; no shutdown of its own")
    func interrupted() async throws {
        let deployment = try await Deployment.create()
        let spec = testSpec(Deployment.uniqueName("spot"), steps: [.init(name: "long", run: "echo started; sleep 60")])
        let payload = try await startingJob(deployment, spec)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("sortie-runner"))
        process.arguments = ["run", home.appendingPathComponent("job.json").path]
        process.environment = try environment(deployment, home: home)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while try await deployment.record(payload.jobID)?.state != .running, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .milliseconds(500))
        process.terminate()
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("the runner did not stop within 30 s of SIGTERM")
            return
        }
        #expect(process.terminationStatus == 1)
        let record = try #require(try await deployment.record(payload.jobID))
        #expect(record.state == .failed)
        #expect(record.statusReason == "Host EC2 (instance unknown) terminated.")
        #expect(record.reason?.contains("SIGTERM") == true && record.failingStep == "long" && record.exitCode == nil)
        #expect(spec.retry.shouldRetry(attempt: 1, exitCode: nil, statusReason: record.statusReason, reason: record.reason) == false)
        #expect(RetryStrategy(attempts: 2, evaluateOnExit: [.init(onStatusReason: "Host EC2*", action: .retry), .init(onReason: "*", action: .exit)])
            .shouldRetry(attempt: 1, exitCode: nil, statusReason: record.statusReason, reason: record.reason))
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path))
        #expect(try await deployment.slotHolders(job: spec.name).isEmpty)
    }

    @Test("on spot, EC2's interruption notice in instance metadata (polled every 5 s, 404 until then) stops the step and records the attempt as interrupted and warned, with no SIGTERM; the runner then shuts the instance down")
    func spotNotice() async throws {
        let deployment = try await Deployment.create()
        var spec = testSpec(Deployment.uniqueName("notice"), steps: [.init(name: "long", run: "echo started; sleep 60")])
        spec.instance.market = .spot
        let payload = try await startingJob(deployment, spec)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let metadata = try await InstanceMetadataStandIn.start(.init(instanceID: "i-0spot0notice", instanceType: "t3.micro", region: MotoServer.region))
        var environment = try environment(deployment, home: home)
        environment["AWS_EC2_METADATA_DISABLED"] = nil
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = metadata.endpoint
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BuiltProducts.executable("sortie-runner"))
        process.arguments = ["run", home.appendingPathComponent("job.json").path]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(40)
        // Running, and asked at least once with no notice there.
        while try await deployment.record(payload.jobID)?.state != .running || metadata.spotNoticeReads == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await deployment.record(payload.jobID)?.state == .running)
        metadata.giveSpotNotice(time: "2026-12-06T03:00:00Z")
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        await metadata.stop()
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("the runner did not stop within 40 s")
            return
        }
        #expect(process.terminationStatus == 1)
        #expect(metadata.spotNoticeReads >= 2)
        let record = try #require(try await deployment.record(payload.jobID))
        #expect(record.state == .failed && record.instanceID == "i-0spot0notice")
        #expect(record.statusReason == "Host EC2 (instance i-0spot0notice) terminated.")
        #expect(record.reason?.hasPrefix("Step 'long' stopped: EC2 gave notice of a spot interruption (") == true, "\(record.reason ?? "")")
        #expect(record.reason?.contains("2026-12-06T03:00:00Z") == true && record.failingStep == "long" && record.exitCode == nil)
        #expect(try await deployment.item(JobTable.jobKey(payload.jobID))?[.interruptionWarnedAt] != nil)
        #expect(try await deployment.slotHolders(job: spec.name).isEmpty)
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path))
    }

    @Test("no_shutdown: the runner writes the final record, then tells the reactor function (an Event invocation of AttemptEnded) and leaves the instance up")
    func keptInstanceTellsReactor() async throws {
        let deployment = try await Deployment.create()
        var spec = testSpec(Deployment.uniqueName("kept"), steps: [.init(name: "work", run: "echo done")])
        spec.noShutdown = true
        var payload = try await startingJob(deployment, spec)
        payload.reporting?.reactorFunction = "stack-retry-reactor"
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let lambda = try await FakeServer.start { _, _ in FakeServer.Answer(status: 202) }
        var environment = try environment(deployment, home: home)
        environment["AWS_ENDPOINT_URL_LAMBDA"] = lambda.endpoint
        let run = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", home.appendingPathComponent("job.json").path],
                                  environment: environment, timeout: .seconds(60))
        await lambda.stop()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await deployment.record(payload.jobID)?.state == .succeeded)
        let requests = lambda.requests
        #expect(requests.map(\.path) == ["/2015-03-31/functions/stack-retry-reactor/invocations"])
        #expect(requests.first?.headers["x-amz-invocation-type"] == "Event")
        let body = try #require(requests.first?.body)
        let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(event["detail-type"] as? String == AttemptEnded.detailType)
        let detail = event["detail"] as? [String: Any]
        #expect(detail?["job-id"] as? String == payload.jobID && detail?["attempt"] as? Int == 1 && detail?.count == 2)
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path))
    }

    @Test("a runner whose job is no longer STARTING (failed or cancelled meanwhile), or whose payload is unreadable, runs nothing and still shuts down")
    func staleAttempt() async throws {
        let deployment = try await Deployment.create()
        let spec = testSpec(Deployment.uniqueName("stale"), steps: [.init(name: "no", run: "touch \"$SORTIE_HOME/ran\"")])
        let payload = try await startingJob(deployment, spec)
        let moved = try await blocking {
            try deployment.store.transition(payload.jobID, attempt: 1, from: [.starting], to: .failed, reason: "cancelled", freeingSlotsOf: spec.name)
        }
        #expect(moved)
        let home = try home(payload)
        defer { try? FileManager.default.removeItem(at: home) }
        let run = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", home.appendingPathComponent("job.json").path],
                                  environment: try environment(deployment, home: home), timeout: .seconds(60))
        #expect(run.status == 2)
        #expect(run.stderr.contains("is not STARTING any more"))
        #expect(!FileManager.default.fileExists(atPath: home.appendingPathComponent("ran").path))
        #expect(try await deployment.record(payload.jobID)?.statusReason == "cancelled")
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path), "the instance must not outlive its job")

        try Data("{not a payload".utf8).write(to: home.appendingPathComponent("job.json"))
        try FileManager.default.removeItem(at: home.appendingPathComponent("shutdown-ran"))
        let broken = try Command.run(try BuiltProducts.executable("sortie-runner"), ["run", home.appendingPathComponent("job.json").path],
                                     environment: try environment(deployment, home: home), timeout: .seconds(60))
        #expect(broken.status == 2)
        #expect(FileManager.default.fileExists(atPath: home.appendingPathComponent("shutdown-ran").path), "an unreadable payload still shuts down")
    }

    @Test("--local runs a YAML spec here: steps in order with their arguments, a step timeout fails the job, the log is kept, nothing is shut down")
    func local() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-local-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("jobs"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let spec = folder.appendingPathComponent("jobs/try-it.yaml")
        try """
            name: try-it
            instance: {types: [t3.micro], image: ami-0123456789abcdef0}
            arguments:
              who: {default: world}
              note:
            environment: {OUT: \(folder.path)}
            steps:
              - name: greet
                run: printf '%s|%s' "$SORTIE_ARG_who" "$SORTIE_ARG_note" > "$OUT/greeting"
              - name: slow
                run: echo before; sleep 30; echo after
                timeout: 1s
              - name: never
                run: touch "$OUT/never"
            timeout: 1m
            """.write(to: spec, atomically: true, encoding: .utf8)
        let note = "it's $(id) `x`\nline 2 ✓"
        let run = try Command.run(try BuiltProducts.executable("sortie-runner"), [
            "--local", spec.path, "--arg", "note=\(note)", "--log-dir", folder.appendingPathComponent("logs").path,
        ], environment: ["PATH": "/usr/bin:/bin"], timeout: .seconds(60))
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try String(contentsOf: folder.appendingPathComponent("greeting"), encoding: .utf8) == "world|\(note)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("never").path))
        #expect(run.stdout.contains("before\n") && !run.stdout.contains("after"))
        #expect(run.stderr.contains("step 'slow' timed out after 1s"))
        let logs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("logs").path)
        #expect(logs.count == 1 && logs.first?.hasPrefix("try-it-local-") == true)

        let bad = try Command.run(try BuiltProducts.executable("sortie-runner"), ["--local", spec.path, "--arg", "colour=red"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("takes no argument 'colour'"))
    }
}
