import ArgumentParser
import Foundation
import JobCost
import JobModel
import WallTime

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The jobs in the table: id, job, attempt, state, instance, started, duration.",
        discussion: "With --cost: what the jobs cost on EC2, summed by job name (jobs, attempts, hours, US dollars; attempts whose price is unknown are counted apart).")

    @Option(help: "Only jobs in this state (SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED).")
    var state: String?

    @Option(help: "Only jobs of this kind.")
    var job: String?

    @Option(help: ArgumentHelp("Only jobs submitted this long ago or since (90s, 30m, 12h, 7d).", valueName: "DURATION"))
    var since: String?

    @Flag(help: "Sum what the jobs cost by job name.")
    var cost = false

    @OptionGroup var target: Target

    func validate() throws {
        if let since, (DurationText.seconds(since) ?? 0) <= 0 { throw ValidationError("--since takes a duration such as 7d or 12h, not '\(since)'") }
    }

    func run() throws {
        var wanted: JobState?
        if let state {
            guard let parsed = JobState(rawValue: state.uppercased()) else { throw ValidationError("unknown state '\(state)'") }
            wanted = parsed
        }
        let now = WallClock.unixMilliseconds()
        let earliest = since.flatMap(DurationText.seconds).map { now - Int64($0) * 1000 } ?? .min
        let stored = try target.store().storedJobs(job: job, state: wanted).filter { $0.record.submittedAt >= earliest }
        let records = stored.map(\.record)
        if cost {
            let prices = try target.priceBook()
            let sums = JobNameCost.byName(stored.map { JobCost($0, prices: prices, now: now) })
            if target.json { return try target.emit(["jobs": records.map(\.json), "costs": sums.map(\.json), "region": prices.region, "currency": "USD"]) }
            let rows = sums.map { [$0.job, String($0.jobs), String($0.attempts), String(format: "%.4f", $0.hours), $0.cost] }
            Self.table(["JOB", "JOBS", "ATTEMPTS", "HOURS", "COST (USD, EC2 in \(prices.region))"], rows)
            return
        }
        if target.json { return try target.emit(["jobs": records.map(\.json)]) }
        let rows = records.map { record -> [String] in
            let started = record.history.last { $0.state == .starting }?.at
            return [
                record.id, record.job, String(record.attempt), record.state.rawValue, record.instanceID ?? "-",
                started.map(JobRecord.time) ?? "-", record.durationMilliseconds.map { String(format: "%.1fs", Double($0) / 1000) } ?? "-",
            ]
        }
        Self.table(["ID", "JOB", "ATTEMPT", "STATE", "INSTANCE", "STARTED", "DURATION"], rows)
    }

    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
