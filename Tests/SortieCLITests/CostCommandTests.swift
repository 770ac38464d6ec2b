@testable import DevEnvironment
import AWSServices
import DevTestSupport
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing

/// `describe`'s cost and `jobs --cost`, run as the `sortie` executable against `sortie dev`: on-demand
/// prices from the recorded Price List answers it serves, spot prices from moto's price history.
@Suite("What jobs cost, through sortie's commands against sortie dev")
struct CostCommandTests {
    @Test("describe shows each attempt's cost and the job's (text and --json), a second describe asks the Price List nothing, an unrecorded type is unknown; jobs --since 7d --cost sums by job name")
    func costs() async throws {
        try await DevHarness.onDev { environment, _ in
            let run = try CommandTests.sortie(environment)
            let json = CommandTests.json
            let story = DemoStory(environment: environment, patience: .seconds(30)) { _ in }
            let onDemand = JobSpec(name: "cost-quick", instance: DemoStory.demoInstance, steps: [.init(name: "work", run: "sleep 1")], timeoutSeconds: 60)
            var spot = onDemand
            spot.name = "cost-spot"
            spot.instance.market = .spot
            try await story.publish(onDemand)
            try await story.publish(spot)
            let id = try #require(try json(try await run(["submit", "cost-quick", "--json"]))["jobId"] as? String)
            let spotID = try #require(try json(try await run(["submit", "cost-spot", "--json"]))["jobId"] as? String)
            #expect(try await story.settled(id) { $0.state.isFinal }.state == .succeeded)
            let spotRecord = try await story.settled(spotID) { $0.state.isFinal }
            #expect(spotRecord.state == .succeeded && spotRecord.market == .spot && spotRecord.availabilityZone?.hasPrefix("us-east-1") == true, "\(spotRecord)")

            // On demand: t3.micro's recorded price, asked once; the second describe (another process) reads the table.
            #expect(environment.priceList.requests == 0)
            let described = try json(try await run(["describe", id, "--json"]))
            #expect(described["state"] as? String == "SUCCEEDED", "the record's fields are still there")
            let cost = try #require(described["cost"] as? [String: Any])
            let attempts = try #require(cost["attempts"] as? [[String: Any]])
            #expect(attempts.count == 1 && attempts[0]["usdPerHour"] as? Double == 0.0104 && attempts[0]["market"] as? String == "on-demand", "\(cost)")
            let hours = try #require(attempts[0]["hours"] as? Double)
            #expect(hours >= 60.0 / 3600 && hours < 0.1, "billed at least a minute")
            #expect(abs((cost["usd"] as? Double ?? -1) - hours * 0.0104) < 1e-9 && cost["unknownAttempts"] as? Int == 0, "\(cost)")
            #expect(environment.priceList.requests == 1)
            let text = try await run(["describe", id])
            #expect(text.status == 0 && text.stdout.contains("cost (EC2 in us-east-1, USD):") && text.stdout.contains("(t3.micro on-demand)")
                && text.stdout.contains("× $0.0104/h = $") && text.stdout.contains("  job: $"), "\(text.stdout)")
            #expect(environment.priceList.requests == 1, "the second describe found the price in the table")

            // Spot: moto's price history for the attempt's zone, over its window.
            let spotCost = try #require(try json(try await run(["describe", spotID, "--json"]))["cost"] as? [String: Any])
            let spotAttempt = try #require((spotCost["attempts"] as? [[String: Any]])?.first)
            #expect(spotAttempt["usdPerHour"] as? Double == 0.00001 && spotAttempt["availabilityZone"] as? String == spotRecord.availabilityZone, "\(spotCost)")

            // A type the Price List has no answer for: unknown, said so, no sum; and an old job --since leaves out.
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            func ended(_ id: String, _ job: String, _ type: String, at start: Int64) -> JobRecord {
                JobRecord(
                    id: id, job: job, parameters: [:], state: .succeeded, submittedAt: start, instanceID: "i-\(id)", instanceType: type,
                    history: [.init(state: .submitted, at: start, reason: nil), .init(state: .starting, at: start + 1_000, reason: nil),
                              .init(state: .succeeded, at: start + 1_801_000, reason: nil)], market: .onDemand)
            }
            let unknownID = "cost-unknown-\(UUID().uuidString.prefix(8).lowercased())"
            let dynamoDB = DynamoDB(client: environment.client)
            let table = environment.resources.table
            let synthetic = [ended(unknownID, "cost-graviton", "m7g.medium", at: now - 3_600_000), ended("cost-old", "cost-quick", "c6i.large", at: now - 10 * 86_400_000)]
            try await blocking {
                for record in synthetic { try dynamoDB.putItem(.init(tableName: table, item: JobTable.item(record))) }
            }
            let unknown = try await run(["describe", unknownID])
            #expect(unknown.status == 0 && unknown.stdout.contains("unknown: the Price List has no on-demand hourly price for m7g.medium in us-east-1")
                && unknown.stdout.contains("job: unknown ($0.0000 known, 1 attempt unknown)"), "\(unknown.stdout)")
            let unknownCost = try #require(try json(try await run(["describe", unknownID, "--json"]))["cost"] as? [String: Any])
            #expect(unknownCost["usd"] is NSNull && unknownCost["unknownAttempts"] as? Int == 1, "\(unknownCost)")
            #expect((unknownCost["attempts"] as? [[String: Any]])?.first?["usd"] == nil)

            // jobs --since 7d --cost: by name; the ten-day-old cost-quick is left out, the unknown one counted apart.
            let summed = try json(try await run(["jobs", "--since", "7d", "--cost", "--json"]))
            let rows = Dictionary(uniqueKeysWithValues: try #require(summed["costs"] as? [[String: Any]]).map { ($0["job"] as? String ?? "", $0) })
            #expect(Set(rows.keys) == ["cost-quick", "cost-spot", "cost-graviton"], "\(rows)")
            #expect(rows["cost-quick"]?["jobs"] as? Int == 1 && abs((rows["cost-quick"]?["usd"] as? Double ?? -1) - (cost["usd"] as? Double ?? -2)) < 1e-6, "\(rows)")
            #expect(rows["cost-graviton"]?["unknownAttempts"] as? Int == 1 && rows["cost-graviton"]?["usd"] is NSNull)
            #expect((summed["jobs"] as? [[String: Any]])?.count == 3, "--json keeps the listing's jobs")
            let all = try json(try await run(["jobs", "--cost", "--json"]))
            let quick = (all["costs"] as? [[String: Any]])?.first { $0["job"] as? String == "cost-quick" }
            #expect(quick?["jobs"] as? Int == 2 && quick?["attempts"] as? Int == 2, "without --since the old job counts: \(quick ?? [:])")
            let table7d = try await run(["jobs", "--since", "7d", "--cost"])
            #expect(table7d.status == 0 && table7d.stdout.contains("COST (USD, EC2 in us-east-1)") && table7d.stdout.contains("$0.0000 + 1 unknown"), "\(table7d.stdout)")
            #expect(try await run(["jobs", "--since", "soon"]).status == 64)
        }
    }
}
