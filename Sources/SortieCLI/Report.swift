import ArgumentParser
import Foundation
import JobLaunch
import JobModel
import JobReport
import WallTime

/// `sortie report`: the page `JobReport` gathers and draws, written to a file.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML page of the jobs and files: every attempt on a timeline, queues against max_concurrency, the file pipeline, failures with their logs.",
        discussion: "The page needs no network to be viewed. `sortie dev` serves the same page, refreshed live, at SORTIE_REPORT_URL.")

    @Option(help: "How far back: jobs changed (or still under way) and files created within it, as 30m, 12h, 7d.")
    var since = "7d"

    @Option(help: "The page to write.")
    var out = "report.html"

    @OptionGroup var target: Target

    func run() throws {
        guard let seconds = DurationText.seconds(since), seconds > 0 else { throw ValidationError("--since takes a duration such as 30m, 12h or 7d, not '\(since)'") }
        let now = WallClock.unixMilliseconds()
        let source = JobReport.Source(client: try target.client(), table: try target.table(), specs: target.environment["SORTIE_SPECS"].flatMap(SpecSource.init))
        let report = try JobReport.gather(from: source, since: now - Int64(seconds) * 1000, now: now)
        let page = Data(try report.html().utf8)
        do {
            try page.write(to: URL(fileURLWithPath: out))
        } catch {
            throw CommandError("cannot write \(out): \(error.localizedDescription)")
        }
        let attempts = report.jobs.reduce(0) { $0 + $1.attempts.count }
        if target.json {
            return try target.emit(["out": out, "bytes": page.count, "jobs": report.jobs.count, "attempts": attempts, "files": report.files.count])
        }
        print("wrote \(out): \(report.jobs.count) jobs (\(attempts) attempts), \(report.files.count) files, \(Progress.bytes(page.count))")
    }
}
