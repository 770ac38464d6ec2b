import Foundation
import AWSServices
import JobCost
import JobStore
import LocalAWS
import WallTime

/// Story 7: what the story's jobs cost, as `sortie describe ID` and `sortie jobs --cost` show it:
/// each attempt's hours at the Price List's on-demand price (the recorded answers `sortie dev`
/// serves), the job's sum, the sums by job name; asked again, every price comes from the job table.
extension DemoStory {
    func jobCosts() async throws -> [Check] {
        say("== 9. what the jobs cost (sortie describe ID; sortie jobs --cost)")
        let (client, table) = (environment.client, environment.resources.table)
        let store = JobStore(dynamoDB: DynamoDB(client: client), table: table)
        let requests = environment.priceList.requests
        let now = WallClock.unixMilliseconds()
        let price = { @Sendable () throws -> [JobCost] in
            try store.storedJobs().map { JobCost($0, prices: PriceBook(client: client, table: table), now: now) }
        }
        let costs = try await blocking(price)
        let asked = environment.priceList.requests - requests
        let repeated = try await blocking(price)
        let askedAgain = environment.priceList.requests - requests - asked
        let retried = costs.first { $0.job == Self.nightly.name }
        if let retried {
            say("  sortie describe \(retried.id.prefix(8))…")
            for line in retried.lines { say("  " + line) }
        }
        let sums = JobNameCost.byName(costs)
        say("  sortie jobs --cost")
        for sum in sums {
            say("  " + [sum.job.padding(toLength: 16, withPad: " ", startingAt: 0), Self.count(sum.jobs, "job"), Self.count(sum.attempts, "attempt"), String(format: "%.4f h", sum.hours), sum.cost]
                .joined(separator: "  "))
        }
        let expectedRate = Price.usdPerHour(0.0104)
        return [
            Check(
                name: "story 9: the retried job's two attempts are priced at t3.micro's on-demand rate",
                passed: retried?.attempts.count == 2 && retried?.attempts.allSatisfy { $0.price == expectedRate && ($0.usd ?? 0) > 0 } == true && retried?.usd != nil,
                detail: retried.map { ($0.lines.last ?? "").trimmingCharacters(in: .whitespaces) } ?? "no nightly-report job"),
            Check(
                name: "story 9: every job's cost is known", passed: !sums.isEmpty && sums.allSatisfy { $0.unknownAttempts == 0 },
                detail: sums.map { "\($0.job) \($0.cost)" }.joined(separator: ", ")),
            Check(
                name: "story 9: asked again, the prices come from the job table", passed: asked >= 1 && askedAgain == 0 && repeated == costs,
                detail: "\(asked) Price List request\(asked == 1 ? "" : "s"), then \(askedAgain)"),
        ]
    }

    /// `1 job`, `5 jobs`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
