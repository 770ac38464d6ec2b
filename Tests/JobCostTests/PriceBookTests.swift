import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import JobCost
import JobModel
import JobStore
import SortieTestSupport
import TableSchema
import Testing
import WallTime

/// Prices asked of the Price List (the stand-in serving the recorded answers) and of EC2's spot
/// price history (moto's), and kept in the job table (moto's DynamoDB).
@Suite struct PriceBookTests {
    struct World {
        var moto: MotoServer
        var priceList: PriceListStandIn
        var table: String

        func client(region: String = MotoServer.region) throws -> AWSClient {
            try AWSClient.fromEnvironment(AWSEnvironment(moto.environment.merging([
                "AWS_ENDPOINT_URL_PRICING": priceList.endpoint, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            ]) { $1 }))
        }

        func book(region: String = MotoServer.region) throws -> PriceBook { PriceBook(client: try client(region: region), table: table) }

        func item(_ key: DynamoDB.Item) async throws -> DynamoDB.Item? {
            let (client, table) = (try client(), table)
            return try await blocking { try DynamoDB(client: client).getItem(.init(tableName: table, key: key, consistentRead: true)).item }
        }
    }

    static func world(_ body: (World) async throws -> Void) async throws {
        let moto = try await MotoServer.shared()
        let priceList = try await PriceListStandIn.start(recordings: PriceListStandIn.recordings(in: Repository.root))
        let world = World(moto: moto, priceList: priceList, table: "cost-\(UUID().uuidString.prefix(8))")
        do {
            let client = try world.client()
            try await blocking { try createJobTable(client, world.table) }
            try await body(world)
        } catch {
            await priceList.stop()
            throw error
        }
        await priceList.stop()
    }

    @Test("an on-demand price comes from the Price List once, then from the job table's price item")
    func onDemandKept() async throws {
        try await Self.world { world in
            let first = try world.book()
            #expect(try await blocking { first.onDemand("t3.micro") } == .usdPerHour(0.0104))
            #expect(first.counted == .init(cacheHits: 0, priceListCalls: 1, spotHistoryCalls: 0))
            #expect(world.priceList.requests == 1)
            let item = try #require(try await world.item(JobTable.onDemandPriceKey(region: MotoServer.region, instanceType: "t3.micro")))
            #expect(item[.usdPerHour] == .n("0.0104"))
            let expires = try #require(item[.expiresAt]?.int64)
            #expect(expires > WallClock.unixMilliseconds() / 1000 + 29 * 86_400)

            // Another command's book (another process) finds it in the table: no request.
            let second = try world.book()
            #expect(try await blocking { second.onDemand("t3.micro") } == .usdPerHour(0.0104))
            #expect(try await blocking { second.onDemand("t3.micro") } == .usdPerHour(0.0104))
            #expect(second.counted == .init(cacheHits: 1, priceListCalls: 0, spotHistoryCalls: 0))
            #expect(world.priceList.requests == 1)
        }
    }

    @Test("a type the Price List has no product for is unknown, and nothing is kept; so is every type in a region it has none for")
    func unknownNotKept() async throws {
        try await Self.world { world in
            let book = try world.book()
            #expect(try await blocking { book.onDemand("m7g.medium") } == .unknown("the Price List has no on-demand hourly price for m7g.medium in us-east-1"))
            #expect(try await world.item(JobTable.onDemandPriceKey(region: MotoServer.region, instanceType: "m7g.medium")) == nil)
            #expect(try await blocking { try world.book().onDemand("m7g.medium") } != .usdPerHour(0), "asked again, still unknown")
            #expect(world.priceList.requests == 2)
            // Jobs in eu-west-1: the request is still signed for us-east-1, where the API is (the stand-in refuses any other scope).
            let europeClient = try world.client(region: "eu-west-1")
            try await blocking { try createJobTable(europeClient, world.table) }
            let europe = try world.book(region: "eu-west-1")
            #expect(try await blocking { europe.onDemand("t3.micro") } == .unknown("the Price List has no on-demand hourly price for t3.micro in eu-west-1"))
            #expect(world.priceList.requests == 3)
        }
    }

    @Test("a failing Price List is an unknown price naming AWS's error")
    func serviceErrorIsUnknown() async throws {
        let moto = try await MotoServer.shared()
        // moto has no Price List: AWS_ENDPOINT_URL sends GetProducts to it.
        let client = try AWSClient.fromEnvironment(AWSEnvironment(moto.environment))
        let table = "cost-\(UUID().uuidString.prefix(8))"
        try await blocking { try createJobTable(client, table) }
        let price = try await blocking { PriceBook(client: client, table: table).onDemand("t3.micro") }
        guard case .unknown(let reason) = price else {
            Issue.record("moto answered a price: \(price)")
            return
        }
        #expect(reason.hasPrefix("Pricing GetProducts: "), "\(reason)")
    }

    @Test("a spot price is EC2's price history over the window (moto's), kept only once the window has ended")
    func spotFromHistory() async throws {
        try await Self.world { world in
            let now = WallClock.unixMilliseconds()
            let (from, to) = (now - 3_600_000, now - 600_000)
            let book = try world.book()
            // moto answers one change, long before the window, for each zone: 0.00001 an hour.
            #expect(try await blocking { book.spot("t3.micro", zone: "us-east-1a", from: from, to: to, final: true) } == .usdPerHour(0.00001))
            #expect(book.counted.spotHistoryCalls == 1)
            let key = JobTable.spotPriceKey(region: MotoServer.region, zone: "us-east-1a", instanceType: "t3.micro", from: from, to: to)
            #expect(try await world.item(key)?[.usdPerHour] == .n("1e-05"))
            let again = try world.book()
            #expect(try await blocking { again.spot("t3.micro", zone: "us-east-1a", from: from, to: to, final: true) } == .usdPerHour(0.00001))
            #expect(again.counted == .init(cacheHits: 1, priceListCalls: 0, spotHistoryCalls: 0))

            // A running attempt's window grows: asked, not kept.
            #expect(try await blocking { book.spot("t3.micro", zone: "us-east-1a", from: from, to: now, final: false) } == .usdPerHour(0.00001))
            #expect(try await world.item(JobTable.spotPriceKey(region: MotoServer.region, zone: "us-east-1a", instanceType: "t3.micro", from: from, to: now)) == nil)
            // A zone EC2 has no history for: unknown.
            guard case .unknown(let reason) = try await blocking({ book.spot("t3.micro", zone: "us-east-1x", from: from, to: to, final: true) }) else {
                Issue.record("a zone without history gave a price")
                return
            }
            #expect(reason.contains("no spot price history for t3.micro in us-east-1x"), "\(reason)")
        }
    }

    @Test("a job's cost sums its attempts; an attempt recorded without its type or market is unknown, asked of no one, and the sum with it")
    func jobSums() async throws {
        try await Self.world { world in
            let t = WallClock.unixMilliseconds() - 7_200_000
            let record = JobRecord(
                id: "sum", job: "nightly", parameters: [:], attempt: 3, state: .succeeded, submittedAt: t, instanceID: "i-3", instanceType: "c6i.large",
                history: [
                    .init(state: .submitted, at: t, reason: nil), .init(state: .starting, at: t + 1_000, reason: nil),
                    .init(state: .failed, at: t + 1_801_000, reason: nil), .init(state: .runnable, at: t + 1_802_000, reason: nil),
                    .init(state: .starting, at: t + 1_803_000, reason: nil), .init(state: .failed, at: t + 1_900_000, reason: nil),
                    .init(state: .runnable, at: t + 1_901_000, reason: nil), .init(state: .starting, at: t + 1_902_000, reason: nil),
                    .init(state: .succeeded, at: t + 5_502_000, reason: nil),
                ],
                market: .onDemand)
            let earlier = [
                JobStore.EarlierAttempt(attempt: 1, instanceID: "i-1", instanceType: "t3.micro", market: .onDemand, availabilityZone: "us-east-1a"),
                JobStore.EarlierAttempt(attempt: 2, instanceID: "i-2", instanceType: nil, market: nil, availabilityZone: nil),
            ]
            let book = try world.book()
            let cost = try await blocking {
                JobCost(.init(record: record, settled: true, interruptionWarned: false, log: nil, earlierAttempts: earlier), prices: book, now: .max)
            }
            #expect(cost.attempts.map(\.usage.attempt) == [1, 2, 3])
            #expect(cost.attempts[0].usd == 0.5 * 0.0104 && cost.attempts[2].usd == 0.085)
            #expect(cost.attempts[1].price == .unknown("no instance type recorded for attempt 2") && cost.attempts[1].usd == nil)
            #expect(cost.usd == nil && abs(cost.knownUSD - (0.0052 + 0.085)) < 1e-12 && cost.unknownAttempts == 1)
            #expect(book.counted.priceListCalls == 2, "one request for each type, none for the unknown attempt")
            #expect(cost.lines.last == "  job: unknown ($0.0902 known, 1 attempt unknown)", "\(cost.lines)")
            #expect(cost.lines.contains("  attempt 3  i-3 (c6i.large on-demand)  1.0000 h × $0.0850/h = $0.0850"), "\(cost.lines)")
            let sums = JobNameCost.byName([cost])
            #expect(sums.count == 1 && sums[0].attempts == 3 && sums[0].unknownAttempts == 1 && sums[0].cost == "$0.0902 + 1 unknown")
        }
    }
}
