import Foundation
import JobLaunch
import JobReport
import LocalAWS
import WallTime

/// Story 7: the picture of it all. `sortie report`'s page of everything the stories ran, written
/// to `.sortie/report.html` in the repository (kept after the demo), and served live by `sortie dev`.
extension DemoStory {
    func reportPage() async throws -> [Check] {
        say("== 10. the report: every job and attempt, the queues, the files, the failures")
        let (client, resources) = (environment.client, environment.resources)
        let source = JobReport.Source(client: client, table: resources.table, specs: SpecSource("s3://\(resources.bucket)/specs/"))
        let report = try await blocking {
            let now = WallClock.unixMilliseconds()
            return try JobReport.gather(from: source, since: now - 86_400_000, now: now)
        }
        let page = environment.repository.appendingPathComponent(".sortie/report.html")
        try FileManager.default.createDirectory(at: page.deletingLastPathComponent(), withIntermediateDirectories: true)
        let html = Data(try report.html().utf8)
        try html.write(to: page)
        let attempts = report.jobs.reduce(0) { $0 + $1.attempts.count }
        say("  wrote \(page.path): \(html.count) bytes, \(report.jobs.count) jobs (\(attempts) attempts), \(report.files.count) files")
        say("  live while sortie dev runs: \(environment.environment["SORTIE_REPORT_URL"] ?? "?")")
        let nightly = report.jobs.filter { $0.name == Self.nightly.name }
        let failed = report.jobs.filter { $0.state == .failed }
        return [
            Check(
                name: "story 10: the report shows story 1's job with its two attempts",
                passed: nightly.contains { $0.attempts.map(\.outcome) == [.retried, .succeeded] && $0.attempts[0].reason != nil },
                detail: nightly.map { $0.attempts.map(\.outcome.rawValue).joined(separator: " → ") }.joined(separator: "; ")),
            Check(
                name: "story 10: every FAILED job in the report has its reason",
                passed: !failed.isEmpty && failed.allSatisfy { $0.attempts.last?.reason != nil || $0.reason != nil },
                detail: "\(failed.count) FAILED"),
            Check(name: "story 10: the page is under 1 MB", passed: html.count < 1_000_000, detail: "\(html.count) bytes"),
        ]
    }
}
