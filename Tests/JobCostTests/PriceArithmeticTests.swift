import Foundation
import JobCost
import JobModel
import JobStore
import SortieTestSupport
import Testing

/// The arithmetic of a cost, without AWS: the Price List's documents read, spot prices weighted
/// by how long each held, attempts' spans read from a job's history.
@Suite struct PriceArithmeticTests {
    /// The recorded GetProducts answer `sortie dev` serves: every product of it, unfiltered.
    static func recordedEntries() throws -> [String] {
        let url = Repository.root.appendingPathComponent("events/pricing/ec2-us-east-1.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try #require(object["PriceList"] as? [String])
    }

    /// The recorded entries whose product has these attributes, as GetProducts' filters select them.
    static func entries(_ attributes: [String: String]) throws -> [String] {
        try recordedEntries().filter { entry in
            let document = try #require(try JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any])
            let product = try #require((document["product"] as? [String: Any])?["attributes"] as? [String: String])
            return attributes.allSatisfy { product[$0.key] == $0.value }
        }
    }

    @Test("the on-demand hourly price is read from a product's OnDemand terms, not its Reserved ones")
    func onDemandPrice() throws {
        let linux = try Self.entries(["instanceType": "c6i.large", "operatingSystem": "Linux", "capacitystatus": "Used"])
        #expect(linux.count == 1)
        #expect(PriceList.onDemandHourlyUSD(linux, what: "c6i.large") == .usdPerHour(0.085))
    }

    @Test("products that disagree, no product, and an entry that is not a document are unknown, never a number")
    func unknownPrices() throws {
        // Unfiltered, t3.micro has Linux, Windows and a capacity reservation's products: three prices.
        let all = try Self.entries(["instanceType": "t3.micro"])
        #expect(all.count == 3)
        guard case .unknown(let reason) = PriceList.onDemandHourlyUSD(all, what: "t3.micro in us-east-1") else {
            Issue.record("disagreeing products gave a price")
            return
        }
        #expect(reason.contains("3 different on-demand prices") && reason.contains("0.0196"), "\(reason)")
        #expect(PriceList.onDemandHourlyUSD([], what: "m9.huge in us-east-1") == .unknown("the Price List has no on-demand hourly price for m9.huge in us-east-1"))
        guard case .unknown = PriceList.onDemandHourlyUSD(["[1, 2]"], what: "x") else {
            Issue.record("an array was read as a product")
            return
        }
        let noUSD = #"{"terms":{"OnDemand":{"A.B":{"priceDimensions":{"A.B.C":{"unit":"Hrs","pricePerUnit":{"CNY":"0.5"}}}}}}}"#
        #expect(PriceList.onDemandHourlyUSD([noUSD], what: "x") == .unknown("the Price List has no on-demand hourly price for x"))
    }

    @Test("a spot price counts for as long as it held within the window; the price at the start must be known")
    func timeWeighting() {
        let hour: Int64 = 3_600_000
        let changes = [
            SpotPriceChanges.Change(at: 0, usdPerHour: 0.03),
            .init(at: 10 * hour, usdPerHour: 0.06),
            .init(at: 11 * hour, usdPerHour: 0.02),
            .init(at: 20 * hour, usdPerHour: 0.5),
        ]
        // 9:00–12:00: one hour at 0.03, one at 0.06, one at 0.02.
        let mean = SpotPriceChanges.meanHourlyUSD(changes.shuffled(), from: 9 * hour, to: 12 * hour)
        #expect(abs((mean ?? 0) - (0.03 + 0.06 + 0.02) / 3) < 1e-12, "\(mean ?? -1)")
        // 10:30–10:45: the 0.06 in effect at the start, all through.
        #expect(SpotPriceChanges.meanHourlyUSD(changes, from: 10 * hour + hour / 2, to: 10 * hour + 3 * hour / 4) == 0.06)
        // A change exactly at the start is the price from the start.
        #expect(SpotPriceChanges.meanHourlyUSD(changes, from: 11 * hour, to: 12 * hour) == 0.02)
        // Nothing at or before the start: unknown, however many changes follow.
        #expect(SpotPriceChanges.meanHourlyUSD(Array(changes.dropFirst()), from: 9 * hour, to: 12 * hour) == nil)
        #expect(SpotPriceChanges.meanHourlyUSD(changes, from: 5, to: 5) == nil)
        // The same price repeated across the window (as EC2 and moto answer): that price, not a rounding of it.
        let repeated = [0, 501, 61_000].map { SpotPriceChanges.Change(at: $0, usdPerHour: 0.00001) }
        #expect(SpotPriceChanges.meanHourlyUSD(repeated, from: 500, to: 60_500) == 0.00001)
    }

    @Test("EC2's timestamps are read with any number of fractional digits; times are sent in whole seconds")
    func timestamps() {
        #expect(SpotPriceChanges.milliseconds("2024-05-01T10:15:00.000Z") == 1_714_558_500_000)
        #expect(SpotPriceChanges.milliseconds("2024-05-01T10:15:00.25Z") == 1_714_558_500_250)
        #expect(SpotPriceChanges.milliseconds("2006-01-02T15:04:05.999999999Z") == 1_136_214_245_999)
        #expect(SpotPriceChanges.milliseconds("2024-05-01T10:15:00Z") == 1_714_558_500_000)
        #expect(SpotPriceChanges.milliseconds("2024-05-01 10:15:00") == nil)
        #expect(SpotPriceChanges.timestamp(1_714_558_500_999) == "2024-05-01T10:15:00Z")
    }

    @Test("each attempt's span runs from its last launch to its ending; a running one has no end; hours bill at least a minute")
    func attemptSpans() {
        let t: Int64 = 1_714_558_500_000
        var record = JobRecord(
            id: "j1", job: "nightly", parameters: [:], attempt: 2, state: .running, submittedAt: t, instanceID: "i-2", instanceType: "c6i.large",
            history: [
                .init(state: .submitted, at: t, reason: nil),
                .init(state: .starting, at: t + 1_000, reason: nil),
                .init(state: .runnable, at: t + 2_000, reason: "no capacity"),
                .init(state: .starting, at: t + 10_000, reason: nil),
                .init(state: .running, at: t + 20_000, reason: nil),
                .init(state: .failed, at: t + 3_610_000, reason: "step failed"),
                .init(state: .runnable, at: t + 3_611_000, reason: "retry"),
                .init(state: .starting, at: t + 3_620_000, reason: nil),
                .init(state: .running, at: t + 3_630_000, reason: nil),
            ],
            market: .spot, availabilityZone: "us-east-1b")
        let earlier = JobStore.EarlierAttempt(attempt: 1, instanceID: "i-1", instanceType: "c6i.large", market: .onDemand, availabilityZone: "us-east-1a")
        let running = AttemptUsage.attempts(.init(record: record, settled: false, interruptionWarned: false, log: nil, earlierAttempts: [earlier]))
        #expect(running == [
            AttemptUsage(attempt: 1, instanceID: "i-1", instanceType: "c6i.large", market: .onDemand, availabilityZone: "us-east-1a", start: t + 10_000, end: t + 3_610_000),
            AttemptUsage(attempt: 2, instanceID: "i-2", instanceType: "c6i.large", market: .spot, availabilityZone: "us-east-1b", start: t + 3_620_000, end: nil),
        ])
        #expect(running[0].hours(now: .max) == 1)
        #expect(running[1].hours(now: t + 3_620_000 + 1_000) == 60.0 / 3600, "under a minute bills a minute")
        #expect(running[1].hours(now: t + 3_620_000 + 1_800_000) == 0.5)

        record.state = .succeeded
        record.history.append(.init(state: .succeeded, at: t + 5_420_000, reason: nil))
        let ended = AttemptUsage.attempts(.init(record: record, settled: true, interruptionWarned: false, log: nil, earlierAttempts: [earlier]))
        #expect(ended.last?.end == t + 5_420_000)
        // An attempt summarised without its instance (it never launched) has no cost to count.
        let unlaunched = JobStore.EarlierAttempt(attempt: 1, instanceID: nil, instanceType: nil, market: nil, availabilityZone: nil)
        #expect(AttemptUsage.attempts(.init(record: record, settled: true, interruptionWarned: false, log: nil, earlierAttempts: [unlaunched])).map(\.attempt) == [2])
    }
}
