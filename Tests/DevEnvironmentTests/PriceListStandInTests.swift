import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import SortieTestSupport
import Testing

/// The Price List `sortie dev` serves: the recorded products filtered as GetProducts filters them,
/// in pages, and requests the service would refuse refused.
@Suite struct PriceListStandInTests {
    @Test("GetProducts answers the recorded products that match every filter, page by page; an unsigned or unknown request is refused")
    func getProducts() async throws {
        let standIn = try await PriceListStandIn.start(recordings: PriceListStandIn.recordings(in: Repository.root))
        do {
            let client = try AWSClient.fromEnvironment(AWSEnvironment([
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1",
                "AWS_ENDPOINT_URL_PRICING": standIn.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]))
            let pricing = Pricing(client: client)
            let linux = try await blocking {
                try pricing.getProducts(serviceCode: "AmazonEC2", filters: [
                    .init(field: "instanceType", value: "t3.micro"), .init(field: "operatingSystem", value: "Linux"), .init(field: "capacitystatus", value: "Used"),
                ])
            }
            #expect(linux.formatVersion == "aws_v1" && linux.priceList.count == 1 && linux.nextToken == nil)
            #expect(linux.priceList.first?.contains(#""instanceType":"t3.micro""#) == true)

            // Three t3.micro products, one a page.
            var pages: [[String]] = []
            var token: String?
            repeat {
                let page = try await blocking { [token] in
                    try pricing.getProducts(serviceCode: "AmazonEC2", filters: [.init(field: "instanceType", value: "t3.micro")], nextToken: token, maxResults: 1)
                }
                pages.append(page.priceList)
                token = page.nextToken
            } while token != nil && pages.count < 10
            #expect(pages.map(\.count) == [1, 1, 1] && Set(pages.flatMap { $0 }).count == 3)
            #expect(try await blocking { try pricing.getProducts(serviceCode: "AmazonS3", filters: []) }.priceList.isEmpty)
            #expect(standIn.requests == 5)

            let refused = try await blocking { try LoopbackHTTP.request(port: Self.port(standIn.endpoint), method: "POST", path: "/", body: Data("{}".utf8)) }
            #expect(refused.status == 400 && String(decoding: refused.body, as: UTF8.self).contains("UnknownOperationException"))
            #expect(standIn.requests == 5, "a refused request is not counted")
        } catch {
            await standIn.stop()
            throw error
        }
        await standIn.stop()
    }

    static func port(_ endpoint: String) throws -> Int { try #require(endpoint.split(separator: ":").last.flatMap { Int($0) }) }
}
