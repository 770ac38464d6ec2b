import JobModel
import JobReport

/// Reports of any size for the page's size test and `bench/report.sh`: jobs of eight names
/// spread over a day, each with the history and attempt details a real one has (instance ids,
/// log locations, reasons); every tenth retried once, every 25th FAILED, every 100th with its
/// instance kept, the last ones still waiting or running; one file per 20 jobs.
public enum ReportSamples {
    public static func bulk(jobs count: Int, now: Int64) -> JobReport {
        let names = ["nightly-report", "hourly-sync", "daily-extract", "daily-transform", "daily-load", "orders-export", "clicks-rollup", "warehouse-vacuum"]
        let start = now - 86_400_000
        let spacing = Int64(86_400_000 / max(count, 1))
        var jobs: [JobReport.Job] = []
        for number in 0..<count {
            let parts: [String] = [hex(number, 8), hex(number &* 2_654_435_761, 4), "4" + hex(number, 3), "8" + hex(number &* 40_503, 3), hex(number &* 97, 12)]
            let id = parts.joined(separator: "-")
            var at = start + Int64(number) * spacing
            let submitted = at
            var history = [JobRecord.Transition(state: .submitted, at: at, reason: "Submitted by event \(hex(number &* 31, 8))")]
            var attempts: [JobReport.Attempt] = []
            let tries = number % 10 == 3 ? 2 : 1
            let last = count - number <= 5
            for attempt in 1...tries {
                at += 4_000
                history.append(.init(state: .runnable, at: at, reason: attempt == 1 ? "Waiting for a slot (max_concurrency 2)" : "Retrying: attempt \(attempt) of 2"))
                if last && number % 2 == 0 { attempts.append(.init(number: attempt, outcome: .waiting)); break }
                let instance = "i-0" + hex(number &* 7 + attempt, 16)
                let started = at + 30_000
                history.append(.init(state: .starting, at: started, reason: "Launched instance \(instance) (t3.micro, on-demand)"))
                history.append(.init(state: .running, at: started + 20_000, reason: "Runner started on instance \(instance)"))
                var details = JobReport.Attempt(
                    number: attempt, outcome: .running, startedAt: started, runningAt: started + 20_000, instanceID: instance, instanceType: "t3.micro",
                    market: "on-demand", log: "s3://sortie-artifacts/logs/\(names[number % names.count])/\(id)/attempt-\(attempt).log")
                if last {
                    attempts.append(details)
                    break
                }
                at = started + 20_000 + Int64(60_000 + number % 7 * 45_000)
                let fails = attempt < tries || number % 25 == 7
                if fails {
                    details.outcome = attempt < tries ? .retried : .failed
                    details.exitCode = 3
                    details.reason = "Essential step failed: Step 'load' exited with status 3"
                    history.append(.init(state: .failed, at: at, reason: "Essential step failed"))
                } else {
                    details.outcome = .succeeded
                    details.exitCode = 0
                    history.append(.init(state: .succeeded, at: at, reason: "All 2 steps succeeded"))
                }
                details.endedAt = at
                // t3.micro's on-demand $0.0104 an hour, billed by the second; every 50th price unknown.
                details.usd = number % 50 == 11 ? nil : Double(at - started) / 3_600_000 * 0.0104
                if number % 100 == 42 { details.kept = "running" }
                attempts.append(details)
            }
            let state = history.last?.state ?? .submitted
            jobs.append(.init(
                id: id, name: names[number % names.count], state: state, reason: history.last?.reason, submittedAt: submitted, history: history, attempts: attempts))
        }
        var files: [JobReport.File] = []
        for number in 0..<(count / 20) {
            let failed = number % 9 == 4
            let created: Int64 = start + Int64(number) * spacing * 20
            let lambda = JobReport.Route(route: "lambda", chunks: 2, done: failed ? 1 : 2, failed: failed ? 1 : 0, records: 300_000, delivered: 299_700, rejected: 300)
            let batch = JobReport.Route(route: "batch", chunks: 3, done: 3, records: 700_000, delivered: 699_300, rejected: 700)
            let failures: [JobReport.ChunkFailure] = failed
                ? [.init(index: 4, route: "lambda", reason: "RetriesExhausted: Task timed out after 60.00 seconds", attempts: 3, ranBy: "Lambda request 7c1f0e2a")] : []
            files.append(JobReport.File(
                id: hex(number &* 2_246_822_519, 24), object: "s3://sortie-landing/incoming/orders/orders-\(number).csv", feed: "orders",
                state: failed ? "FAILED" : "COMPLETE", createdAt: created, completedAt: failed ? nil : created + 95_000, records: 1_000_000, reason: nil,
                routes: [batch, lambda], failures: failures))
        }
        return JobReport(generatedAt: now, since: start, region: "eu-west-1", limits: Dictionary(uniqueKeysWithValues: names.map { ($0, 2) }), jobs: jobs, files: files)
    }

    static func hex(_ value: Int, _ digits: Int) -> String {
        String((String(repeating: "0", count: digits) + String(UInt64(truncatingIfNeeded: value), radix: 16)).suffix(digits))
    }
}
