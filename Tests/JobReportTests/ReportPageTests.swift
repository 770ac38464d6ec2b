import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import Foundation
import JobLaunch
import JobModel
import JobReport
@testable import JobStore
import ReactorTestSupport
import SortieTestSupport
import Testing
import WallTime

/// The report as a person sees it: the jobs of a demo-like deployment written into moto's table
/// through the store's own writes, gathered, drawn by headless Chromium, and read back from the
/// DOM and the screenshot.
@Suite("sortie report's page")
struct ReportPageTests {
    /// What the demo leaves behind, in small: a job retried once then SUCCEEDED, one FAILED for
    /// good, two of a `max_concurrency: 2` kind running and a third RUNNABLE behind them, one
    /// PENDING on it, one SUCCEEDED with its instance kept, a file with a chunk FAILED.
    struct DemoLike {
        var retried: String
        var failed: String
        var running: [String]
        var runnable: String
        var pending: String
        var kept: String
        var keptInstance: String
        var file: String
        var bucket: String
        var report: JobReport
        /// Gathered with a window that starts after every write: what is still under way.
        var later: JobReport
    }

    static func demoLike() async throws -> DemoLike {
        let deployment = try await Deployment.create()
        for spec in [
            testSpec("nightly-report", maxConcurrency: 1), testSpec("hourly-sync", maxConcurrency: 2),
            testSpec("daily-transform", maxConcurrency: 1), testSpec("debug-run", maxConcurrency: 1),
        ] {
            try await deployment.publish(spec)
        }
        let (store, client, bucket, table) = (deployment.store, deployment.client, deployment.bucket, deployment.table)
        return try await blocking {
            let runner = RunnerStandIn(store: store, logBucket: bucket)
            let ec2 = EC2(client: client)
            func submitted(_ job: String, state: JobState = .submitted, dependsOn: [String] = []) throws -> JobRecord {
                let record = JobRecord(
                    id: UUID().uuidString.lowercased(), job: job, parameters: [:], state: state, submittedAt: WallClock.unixMilliseconds(), dependsOn: dependsOn)
                guard case .created(let created) = try store.submit(record, eventID: UUID().uuidString) else { throw Failure("\(job) not created") }
                return created
            }
            /// STARTING on a real (moto) instance, tagged to be kept when asked; the record as launched.
            func started(_ record: JobRecord, keep: Bool = false) throws -> JobRecord {
                guard case .started(let starting) = try store.start(record, maxConcurrency: 2, globalLimit: 10) else { throw Failure("\(record.job) did not start") }
                let tags = [EC2.Tag(key: "sortie:job-id", value: record.id)] + (keep ? [EC2.Tag(key: JobStarter.keepTag, value: "true")] : [])
                let instance = try ec2.runInstances(.init(
                    imageId: "ami-0abcdef1234567890", instanceType: "t3.micro", tagSpecifications: [.init(resourceType: "instance", tags: tags)])).instances[0].instanceId
                try store.launched(starting.id, attempt: starting.attempt, instanceID: instance, instanceType: "t3.micro", market: .onDemand, subnet: nil)
                return try store.record(record.id) ?? starting
            }
            func current(_ id: String) throws -> JobRecord {
                guard let record = try store.record(id) else { throw Failure("no record \(id)") }
                return record
            }

            let retried = try submitted("nightly-report")
            try runner.run(try started(retried), exitCode: 75)
            guard try store.requeue(try current(retried.id), notBefore: 0, reason: "Retrying: attempt 2 of 2", log: "s3://\(bucket)/logs/nightly-report/\(retried.id)/attempt-1.log")
            else { throw Failure("not requeued") }
            try runner.run(try started(try current(retried.id)), exitCode: 0)

            let failed = try submitted("daily-transform")
            try runner.run(try started(failed), exitCode: 3)
            _ = try store.settle(try current(failed.id))

            var running: [String] = []
            for _ in 0..<2 {
                let record = try submitted("hourly-sync")
                _ = try runner.begin(try started(record))
                running.append(record.id)
            }
            let waiting = try submitted("hourly-sync")
            guard try store.enqueue(waiting, reason: "Waiting for a slot of hourly-sync (2 running)") != nil else { throw Failure("not queued") }
            let pending = try submitted("daily-transform", state: .pending, dependsOn: [waiting.id])

            let kept = try submitted("debug-run")
            try runner.run(try started(kept, keep: true), exitCode: 0)
            let keptInstance = try current(kept.id).instanceID ?? ""

            // A file of three chunks: one DONE, one FAILED for good (which fails the file), one never run.
            let files = FileStore(dynamoDB: DynamoDB(client: client), tableName: table)
            let chunks = [
                ChunkSpec(index: 0, firstRecord: 0, recordCount: 1000, start: 8, end: 100, startLine: 2),
                ChunkSpec(index: 1, firstRecord: 1000, recordCount: 1000, start: 100, end: 200, startLine: 1002),
                ChunkSpec(index: 2, firstRecord: 2000, recordCount: 300_000, start: 200, end: 300, startLine: 2002),
            ]
            let now = WallClock.unixMilliseconds()
            let file = FileRecord(
                fileID: "f" + UUID().uuidString.prefix(8).lowercased(),
                object: ObjectRef(bucket: "sortie-landing", key: "incoming/orders/orders.csv", versionID: nil, eTag: "\"e\"", size: 300), sequencer: "01",
                feed: "orders", plan: FilePlan(records: 302_000, columns: ["id"], bytes: 300, compressed: false, chunks: chunks),
                state: .planning, createdAt: now, expiresAt: now / 1000 + 86_400)
            // Written as planning writes a file: its chunks, then the file and the plan's end.
            let routes: [ChunkRoute] = [.lambda, .lambda, .batch]
            _ = try files.putChunks(zip(chunks, routes).map { ChunkRecord(fileID: file.fileID, spec: $0, route: $1, state: .planned) }, expiresAt: file.expiresAt)
            try files.startPlanning(file)
            try files.finishPlanning(fileID: file.fileID, generation: 0, sequence: 0, plan: file.plan, chunkCount: chunks.count, now: now)
            _ = try files.claimChunk(fileID: file.fileID, index: 0, owner: "request-0", now: now, leaseUntil: now + 60_000)
            try files.finishChunk(fileID: file.fileID, index: 0, owner: "request-0", counts: ChunkCounts(read: 1000, valid: 990, rejected: 10, delivered: 990), now: now)
            _ = try files.claimChunk(fileID: file.fileID, index: 1, owner: "request-1", now: now, leaseUntil: now + 60_000)
            _ = try files.failChunk(fileID: file.fileID, index: 1, reason: "RetriesExhausted: Task timed out after 60.00 seconds", now: now)

            let source = JobReport.Source(client: client, table: table, specs: SpecSource("s3://\(bucket)/specs/"))
            let report = try JobReport.gather(from: source, since: now - 3_600_000, now: WallClock.unixMilliseconds())
            let later = try JobReport.gather(from: source, since: WallClock.unixMilliseconds() + 60_000, now: WallClock.unixMilliseconds())
            return DemoLike(
                retried: retried.id, failed: failed.id, running: running, runnable: waiting.id, pending: pending.id, kept: kept.id, keptInstance: keptInstance,
                file: file.fileID, bucket: bucket, report: report, later: later)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("gathered from the table: attempts cut at the retry, reasons and logs, limits, kept instances, the file's chunks by route")
    func gathered() async throws {
        let demo = try await Self.demoLike()
        let jobs = Dictionary(uniqueKeysWithValues: demo.report.jobs.map { ($0.id, $0) })
        let retried = try #require(jobs[demo.retried])
        #expect(retried.state == .succeeded)
        #expect(retried.attempts.map(\.outcome) == [.retried, .succeeded])
        #expect(retried.attempts[0].reason == "Step 'load' failed: Step 'load' exited with status 75")
        #expect(retried.attempts[0].log == "s3://\(demo.bucket)/logs/nightly-report/\(demo.retried)/attempt-1.log")
        #expect(retried.attempts[1].log == "s3://\(demo.bucket)/logs/nightly-report/\(demo.retried)/attempt-2.log")
        #expect(retried.attempts.allSatisfy { $0.instanceID != nil && $0.startedAt != nil && $0.endedAt != nil })
        #expect(retried.attempts[0].instanceID != retried.attempts[1].instanceID)

        let failed = try #require(jobs[demo.failed])
        #expect(failed.state == .failed && failed.attempts.map(\.outcome) == [.failed])
        #expect(failed.attempts[0].reason == "Step 'load' failed: Step 'load' exited with status 3" && failed.attempts[0].exitCode == 3)

        #expect(demo.running.map { jobs[$0]?.attempts.map(\.outcome) } == [[.running], [.running]])
        #expect(jobs[demo.runnable]?.state == .runnable && jobs[demo.runnable]?.attempts.map(\.outcome) == [.waiting])
        #expect(jobs[demo.pending]?.state == .pending && jobs[demo.pending]?.dependsOn == [demo.runnable])
        #expect(jobs[demo.kept]?.attempts.map(\.kept) == ["running"], "the kept instance is still up")
        #expect(jobs[demo.retried]?.attempts.allSatisfy { $0.kept == nil } == true, "instances not tagged to be kept are not")
        #expect(demo.report.limits == ["nightly-report": 1, "hourly-sync": 2, "daily-transform": 1, "debug-run": 1])

        #expect(Set(demo.later.jobs.map(\.id)) == Set(demo.running + [demo.runnable, demo.pending]), "a later window keeps only what is under way")
        #expect(demo.later.files.isEmpty)

        let file = try #require(demo.report.files.first { $0.id == demo.file })
        #expect(file.state == "FAILED" && file.records == 302_000)
        #expect(file.routes == [
            JobReport.Route(route: "batch", chunks: 1, records: 300_000),
            JobReport.Route(route: "lambda", chunks: 2, done: 1, failed: 1, records: 2000, delivered: 990, rejected: 10),
        ])
        #expect(file.failures == [
            JobReport.ChunkFailure(index: 1, route: "lambda", reason: "RetriesExhausted: Task timed out after 60.00 seconds", attempts: 1, ranBy: "Lambda request request-1"),
        ])
    }

    @Test("in headless Chromium: each job in its state with its attempts, the failures with their reasons and logs, the queue against its limit; a screenshot in colour")
    func rendered() async throws {
        let demo = try await Self.demoLike()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html")
        try Data(try demo.report.html().utf8).write(to: page)
        let dom = try await blocking { try HeadlessChromium.dom(page) }

        #expect(dom.contains(#"<body data-rendered="done""#), "the page's script ran to its end")
        func row(_ id: String, _ name: String, _ state: String, attempts: Int) -> String {
            #"<g class="job" data-id="\#(id)" data-name="\#(name)" data-state="\#(state)" data-attempts="\#(attempts)""#
        }
        #expect(dom.contains(row(demo.retried, "nightly-report", "SUCCEEDED", attempts: 2)))
        #expect(dom.contains(row(demo.failed, "daily-transform", "FAILED", attempts: 1)))
        #expect(dom.contains(row(demo.runnable, "hourly-sync", "RUNNABLE", attempts: 1)))
        #expect(dom.contains(row(demo.pending, "daily-transform", "PENDING", attempts: 1)))
        for id in demo.running { #expect(dom.contains(row(id, "hourly-sync", "RUNNING", attempts: 1))) }
        // The retried job's two runs, coloured by their outcomes; the kept instance after its job.
        #expect(dom.contains(#"data-state="RUNNING" data-attempt="1" data-outcome="retried""#))
        #expect(dom.contains(#"data-state="RUNNING" data-attempt="2" data-outcome="succeeded""#))
        #expect(dom.contains(#"<rect class="kept" data-instance="\#(demo.keptInstance)""#))

        // The failures: the FAILED job's reason and log, the retried attempt, the failed chunk with its redrive.
        let failure = try #require(Self.element(dom, #"<tr data-id="\#(demo.failed)" data-attempt="1" data-outcome="failed">"#, until: "</tr>"))
        #expect(failure.contains("Step 'load' exited with status 3"))
        #expect(failure.contains("/logs/daily-transform/\(demo.failed)/attempt-1.log</a>") && failure.contains("sortie logs \(demo.failed)"))
        let retry = try #require(Self.element(dom, #"<tr data-id="\#(demo.retried)" data-attempt="1" data-outcome="retried">"#, until: "</tr>"))
        #expect(retry.contains("FAILED, retried") && retry.contains("status 75"))
        let chunk = try #require(Self.element(dom, #"<tr data-id="\#(demo.file)" data-chunk="1" data-state="FAILED">"#, until: "</tr>"))
        #expect(chunk.contains("RetriesExhausted: Task timed out after 60.00 seconds") && chunk.contains("sortie redrive \(demo.file)"))
        let file = try #require(Self.element(dom, #"<tr data-id="\#(demo.file)" data-state="FAILED">"#, until: "</tr>"))
        #expect(file.contains("1/2 chunks, <b>1 failed</b>; 2,000 records: 990 delivered, 10 rejected") && file.contains("0/1 chunks; 300,000 records"))

        // hourly-sync: two running at its max_concurrency of 2, one queued.
        #expect(dom.contains(#"<div class="queue" data-name="hourly-sync" data-peak-running="2" data-peak-queued="1" data-limit="2">"#))
        #expect(dom.contains(#"<li data-state="RUNNING"><b>2</b>RUNNING</li>"#) && dom.contains(#"<li data-state="FAILED"><b>1</b>FAILED</li>"#))

        let shot = folder.appendingPathComponent("report.png")
        try await blocking { try HeadlessChromium.screenshot(page, to: shot, width: 1280, height: 900) }
        let pixels = try PNGPixels([UInt8](try Data(contentsOf: shot)))
        #expect(pixels.width == 1280 && pixels.height == 900)
        // What a person sees: the outcomes' colours, drawn beyond the legend's swatch of 14 × 9 = 126
        // pixels. The succeeded attempts last seconds on the hour's axis, so their bars are thin: 187
        // pixels in all on a loaded machine, more on a quiet one.
        for (colour, what) in [(0x2e9e5b, "succeeded"), (0xd64545, "failed"), (0xf2c14e, "RUNNABLE"), (0x2f7fd1, "running"), (0xef8a33, "retried")] {
            #expect(pixels.count(colour) > 126 + 24, "\(what) (#\(String(colour, radix: 16))): \(pixels.count(colour)) pixels")
        }
        #expect(pixels.count(0xffffff) < pixels.width * pixels.height * 95 / 100, "not blank")
        if let keep = ProcessInfo.processInfo.environment["SORTIE_REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep))
        }
    }

    @Test("1,000 jobs make a page under 1 MB; no text in the data can end its script element")
    func size() throws {
        var report = ReportSamples.bulk(jobs: 1000, now: 1_780_000_000_000)
        #expect(report.jobs.count == 1000 && report.jobs.contains { $0.attempts.count == 2 } && report.jobs.contains { $0.state == .failed })
        let bytes = try report.html().utf8.count
        #expect(bytes < 1_000_000, "\(bytes) bytes")
        report.jobs[0].reason = "</script><script>document.title='pwned'</script>"
        let page = try report.html()
        #expect(page.components(separatedBy: "</script>").count == 3, "the data's and the script's ends only")
    }

    @Test("beyond 1,000 jobs only the timeline's rows in view are drawn, the first ones at the top; the tables stop at 500 rows")
    func manyJobs() async throws {
        let report = ReportSamples.bulk(jobs: 5000, now: 1_780_000_000_000)
        let page = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-report-\(UUID().uuidString).html")
        defer { try? FileManager.default.removeItem(at: page) }
        try Data(try report.html().utf8).write(to: page)
        let dom = try await blocking { try HeadlessChromium.dom(page) }
        #expect(dom.contains(#"<body data-rendered="done""#))
        let rows = dom.components(separatedBy: #"<g class="job" "#).count - 1
        #expect(rows > 20 && rows <= 400, "\(rows) rows drawn")
        #expect(dom.contains(#"<g class="job" data-id="\#(report.jobs[0].id)""#) && !dom.contains(#"data-id="\#(report.jobs[4999].id)""#))
        let failed = report.jobs.flatMap(\.attempts).filter { $0.outcome == .failed || $0.outcome == .retried }.count
        let chunks = report.files.flatMap(\.failures).count
        #expect(dom.components(separatedBy: "<tr data-id=").count - 1 == 500 + report.files.count + chunks, "500 of \(failed) failed attempts, every file and failed chunk")
        #expect(dom.contains("… and \(failed - 500) older failed attempts"))
    }

    @Test("attempts: a retry starts the next; a capacity bounce (STARTING → RUNNABLE) stays within one")
    func attempts() {
        let record = JobRecord(
            id: "j", job: "etl", parameters: [:], attempt: 2, state: .running, submittedAt: 0,
            history: [
                .init(state: .submitted, at: 0, reason: nil), .init(state: .starting, at: 1, reason: nil),
                .init(state: .runnable, at: 2, reason: "InsufficientInstanceCapacity"), .init(state: .starting, at: 3, reason: nil),
                .init(state: .running, at: 4, reason: nil), .init(state: .failed, at: 5, reason: "Essential step failed"),
                .init(state: .runnable, at: 6, reason: "Retrying"), .init(state: .starting, at: 7, reason: nil), .init(state: .running, at: 8, reason: nil),
            ])
        let earlier = JobStore.EarlierAttempt(
            attempt: 1, exitCode: 2, failingStep: "load", reason: "Step 'load' exited with status 2", statusReason: "Essential step failed",
            instanceID: "i-1", instanceType: nil, market: .spot, log: "s3://logs/1.log")
        let job = JobReport.Job(JobStore.StoredJob(record: record, settled: false, interruptionWarned: false, log: "/sortie/jobs etl/j/attempt-2", earlierAttempts: [earlier]))
        #expect(job.attempts == [
            JobReport.Attempt(
                number: 1, outcome: .retried, startedAt: 3, runningAt: 4, endedAt: 5, instanceID: "i-1", market: "spot", exitCode: 2,
                reason: "Essential step failed: Step 'load' exited with status 2", log: "s3://logs/1.log"),
            JobReport.Attempt(number: 2, outcome: .running, startedAt: 7, runningAt: 8, log: "/sortie/jobs etl/j/attempt-2"),
        ])
    }

    /// The text from `start` up to the next `end`.
    static func element(_ dom: String, _ start: String, until end: String) -> String? {
        guard let from = dom.range(of: start), let to = dom.range(of: end, range: from.upperBound..<dom.endIndex) else { return nil }
        return String(dom[from.lowerBound..<to.upperBound])
    }
}
