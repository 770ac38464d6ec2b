import ArgumentParser
import Foundation
import JobModel
import JobStore

/// `--wait` and `--timeout`, for the commands that can follow a job or a file to its end.
struct WaitOptions: ParsableArguments {
    @Flag(help: "Follow it to its end, each change on stderr as it happens.")
    var wait = false

    @Option(help: "With --wait: give up after this many seconds (exit status 75; it goes on).")
    var timeout = 3600

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout takes a number of seconds above 0") }
    }

    /// The job's record once it has finished; on timeout, says so and exits 75.
    func follow(_ id: String, store: JobStore, progress: Progress) throws -> JobRecord {
        do {
            let record = try JobFollower(store: store, progress: progress, timeout: .seconds(timeout)).follow(id)
            progress.finish("\(id) finished \(record.state.rawValue)")
            return record
        } catch let timedOut as WaitTimedOut {
            progress.close()
            Progress.standardError("Error: \(timedOut)\n")
            throw WaitTimedOut.exitCode
        }
    }
}

/// `--wait` gave up while the job went on: exit status 75 (EX_TEMPFAIL), distinct from a failed job.
struct WaitTimedOut: Error, CustomStringConvertible {
    var record: JobRecord
    var timeout: Int
    var description: String { "gave up after \(timeout)s: job \(record.id) is \(record.state.rawValue) (attempt \(record.attempt))" }
    static let exitCode = ExitCode(75)
}

/// Follows a job until it has finished, reporting each new transition as a stage: a failed
/// attempt that will be retried is not the end, its next attempt is followed too.
struct JobFollower {
    var store: JobStore
    var progress: Progress
    var timeout: Duration
    var interval: Duration = .milliseconds(500)

    func follow(_ id: String) throws -> JobRecord {
        let deadline = ContinuousClock.now + timeout
        var reported = 0
        while true {
            guard let (record, finished) = try store.outcome(id) else { throw CommandError("no job \(id)") }
            // A retry appends to the same history: every entry is reported once, in order.
            for transition in record.history.dropFirst(reported) {
                progress.stage("\(record.id) \(transition.state.rawValue): \(transition.reason ?? "")")
            }
            reported = max(reported, record.history.count)
            if finished { return record }
            guard ContinuousClock.now < deadline else { throw WaitTimedOut(record: record, timeout: Int(timeout.components.seconds)) }
            progress.update()
            Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
        }
    }
}

extension JobRecord {
    /// The record as `sortie describe` prints it: a heading, then every transition with its reason.
    var timeline: String {
        let placement = [instanceType, market?.rawValue, subnet].compactMap { $0 }.joined(separator: ", ")
        let host = instanceID.map { " on \($0)\(placement.isEmpty ? "" : " (\(placement))")" } ?? ""
        var lines = ["\(job) \(id): \(state.rawValue), attempt \(attempt)\(host)"]
        if !overrides.isEmpty { lines.append("  overrides: " + overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")) }
        for transition in history {
            lines.append("  \(JobRecord.time(transition.at))  \(transition.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(transition.reason ?? "")")
        }
        return lines.joined(separator: "\n")
    }
}

/// What a job waits for and what waits for it, each with its job name and state now.
struct DependencyLinks {
    struct Link {
        var id: String
        var job: String?
        var state: String
    }

    var waitsFor: [Link]
    var waitedOnBy: [Link]

    static func read(_ record: JobRecord, store: JobStore) throws -> DependencyLinks {
        func link(_ id: String) throws -> Link {
            let other = try store.record(id)
            return Link(id: id, job: other?.job, state: other?.state.rawValue ?? "GONE")
        }
        return DependencyLinks(waitsFor: try record.dependsOn.map(link), waitedOnBy: try record.dependents.map(link))
    }

    var json: [String: Any] {
        func objects(_ links: [Link]) -> [[String: Any]] { links.map { ["id": $0.id, "job": $0.job ?? NSNull(), "state": $0.state] } }
        var object: [String: Any] = [:]
        if !waitsFor.isEmpty { object["waitsFor"] = objects(waitsFor) }
        if !waitedOnBy.isEmpty { object["waitedOnBy"] = objects(waitedOnBy) }
        return object
    }

    /// Indented lines under the timeline; empty when the job has no dependencies either way.
    var text: String {
        var lines: [String] = []
        for (title, links) in [("waits for", waitsFor), ("waited on by", waitedOnBy)] where !links.isEmpty {
            lines.append("\(title):")
            lines += links.map { "  \($0.id)  \(($0.job ?? "?").padding(toLength: 16, withPad: " ", startingAt: 0)) \($0.state)" }
        }
        return lines.map { $0 + "\n" }.joined()
    }
}
