import AWSCore
import AWSServices
import Synchronization
import TableSchema
import WallTime

/// EC2 prices for one region, asked of AWS once and then kept in the job table as price items:
/// on-demand from the Price List API (`pricing:GetProducts`), spot from EC2's price history over
/// an attempt's window (`ec2:DescribeSpotPriceHistory`). An answer that gives no price is
/// `Price.unknown` with the reason, and is not kept (a later ask may find one).
public struct PriceBook: Sendable {
    let pricing: Pricing
    let ec2: EC2
    let dynamoDB: DynamoDB
    let table: String
    public let region: String
    /// Prices already found by this book (a listing asks the table once per type), and its counters.
    private let memory = Memory()

    private final class Memory: Sendable {
        let found = Mutex<[String: Price]>([:])
        let counters = Mutex(Counters())
    }

    /// How many times each source was asked (the table's items read, AWS's price APIs called).
    public struct Counters: Sendable, Equatable {
        public var cacheHits = 0
        public var priceListCalls = 0
        public var spotHistoryCalls = 0

        public init(cacheHits: Int = 0, priceListCalls: Int = 0, spotHistoryCalls: Int = 0) {
            self.cacheHits = cacheHits
            self.priceListCalls = priceListCalls
            self.spotHistoryCalls = spotHistoryCalls
        }
    }

    public var counted: Counters { memory.counters.withLock { $0 } }

    /// An on-demand price is asked again after this long; a spot window's mean never changes.
    public static let onDemandKeptSeconds: Int64 = 30 * 86_400
    public static let spotKeptSeconds: Int64 = 90 * 86_400
    /// More pages than this is not an answer about one instance type.
    static let pageLimit = 20

    public init(client: AWSClient, table: String) {
        pricing = Pricing(client: client)
        ec2 = EC2(client: client)
        dynamoDB = DynamoDB(client: client)
        self.table = table
        region = client.configuration.region
    }

    /// Linux on shared tenancy, as Sortie launches: the one product the Price List has for it.
    public func onDemand(_ instanceType: String) -> Price {
        let what = "\(instanceType) in \(region)"
        return remembered(JobTable.onDemandPriceKey(region: region, instanceType: instanceType), keepSeconds: Self.onDemandKeptSeconds) { () throws(AWSError) in
            let filters = [
                ("instanceType", instanceType), ("regionCode", region), ("operatingSystem", "Linux"),
                ("tenancy", "Shared"), ("preInstalledSw", "NA"), ("capacitystatus", "Used"), ("operation", "RunInstances"),
            ].map { Pricing.Filter(field: $0.0, value: $0.1) }
            var entries: [String] = []
            var token: String?
            for _ in 0..<Self.pageLimit {
                memory.counters.withLock { $0.priceListCalls += 1 }
                let page = try pricing.getProducts(serviceCode: "AmazonEC2", filters: filters, nextToken: token)
                entries += page.priceList
                token = page.nextToken
                if token == nil { break }
            }
            return PriceList.onDemandHourlyUSD(entries, what: what)
        }
    }

    /// The time-weighted mean spot price (Linux/UNIX) of a type in a zone over [`from`, `to`) (epoch
    /// milliseconds); kept only for a window that has ended (`final`).
    public func spot(_ instanceType: String, zone: String, from: Int64, to: Int64, final: Bool) -> Price {
        let key = JobTable.spotPriceKey(region: region, zone: zone, instanceType: instanceType, from: from, to: to)
        return remembered(key, keepSeconds: final ? Self.spotKeptSeconds : nil) { () throws(AWSError) in
            var changes: [SpotPriceChanges.Change] = []
            var token: String?
            for _ in 0..<Self.pageLimit {
                memory.counters.withLock { $0.spotHistoryCalls += 1 }
                let page = try ec2.describeSpotPriceHistory(
                    instanceTypes: [instanceType], productDescriptions: ["Linux/UNIX"], availabilityZone: zone,
                    startTime: SpotPriceChanges.timestamp(from), endTime: SpotPriceChanges.timestamp(to + 999), nextToken: token)
                for price in page.prices where price.instanceType == instanceType && price.availabilityZone == zone {
                    guard let at = SpotPriceChanges.milliseconds(price.timestamp), let usd = Double(price.spotPrice) else {
                        return .unknown("EC2's spot price '\(price.spotPrice)' at '\(price.timestamp)' for \(instanceType) in \(zone) is not readable")
                    }
                    changes.append(.init(at: at, usdPerHour: usd))
                }
                token = page.nextToken
                if token == nil { break }
            }
            guard let mean = SpotPriceChanges.meanHourlyUSD(changes, from: from, to: max(to, from + 1)) else {
                return .unknown("EC2 has no spot price history for \(instanceType) in \(zone) covering the attempt")
            }
            return .usdPerHour(mean)
        }
    }

    /// The price kept under `key` (this book's, else the table's unexpired item), else `ask`'s
    /// answer, kept for `keepSeconds` when it is a price.
    private func remembered(_ key: DynamoDB.Item, keepSeconds: Int64?, ask: () throws(AWSError) -> Price) -> Price {
        let name = key[.pk]?.string ?? ""
        if let price = memory.found.withLock({ $0[name] }) { return price }
        let now = WallClock.unixMilliseconds()
        do throws(AWSError) {
            if let item = try dynamoDB.getItem(.init(tableName: table, key: key, consistentRead: true)).item,
               (item[.expiresAt]?.int64).map({ $0 * 1000 > now }) ?? true, case .n(let text)? = item[.usdPerHour], let usd = Double(text) {
                memory.counters.withLock { $0.cacheHits += 1 }
                memory.found.withLock { $0[name] = .usdPerHour(usd) }
                return .usdPerHour(usd)
            }
            let price = try ask()
            if case .usdPerHour(let usd) = price, let keepSeconds {
                try dynamoDB.putItem(.init(tableName: table, item: key.with([
                    .usdPerHour: .n(String(usd)), .fetchedAt: .number(now), .expiresAt: .number(now / 1000 + keepSeconds),
                ])))
                memory.found.withLock { $0[name] = price }
            }
            return price
        } catch {
            return .unknown("\(error.service) \(error.operation): \(error.code): \(error.message)")
        }
    }
}
