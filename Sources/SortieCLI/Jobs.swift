import ArgumentParser
import Foundation
import JobModel

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The jobs in the table: id, job, attempt, state, instance, started, duration.")

    @Option(help: "Only jobs in this state (SUBMITTED, PENDING, RUNNABLE, STARTING, RUNNING, SUCCEEDED, FAILED).")
    var state: String?

    @Option(help: "Only jobs of this kind.")
    var job: String?

    @OptionGroup var target: Target

    func run() throws {
        var wanted: JobState?
        if let state {
            guard let parsed = JobState(rawValue: state.uppercased()) else { throw ValidationError("unknown state '\(state)'") }
            wanted = parsed
        }
        let records = try target.store().records(job: job, state: wanted)
        if target.json { return try target.emit(["jobs": records.map(\.json)]) }
        let rows = records.map { record -> [String] in
            let started = record.history.last { $0.state == .starting }?.at
            return [
                record.id, record.job, String(record.attempt), record.state.rawValue, record.instanceID ?? "-",
                started.map(JobRecord.time) ?? "-", record.durationMilliseconds.map { String(format: "%.1fs", Double($0) / 1000) } ?? "-",
            ]
        }
        let header = ["ID", "JOB", "ATTEMPT", "STATE", "INSTANCE", "STARTED", "DURATION"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
