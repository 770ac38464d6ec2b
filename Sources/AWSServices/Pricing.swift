import AWSCore

/// The AWS Price List API over JSON 1.1 (`AWSPriceListService`), on its one endpoint
/// (`AWSService.pricing`): products with their prices, each product a JSON document in a string.
public struct Pricing: Sendable {
    let json: JSONProtocolClient

    public init(client: AWSClient) {
        json = JSONProtocolClient(client: client, service: .pricing, version: "1.1", targetPrefix: "AWSPriceListService")
    }

    /// Only products whose attribute `field` is `value` (`TERM_MATCH`, the type every SDK example uses).
    public struct Filter: Codable, Sendable, Equatable {
        public var type: String
        public var field: String
        public var value: String

        public init(field: String, value: String, type: String = "TERM_MATCH") {
            self.type = type
            self.field = field
            self.value = value
        }

        enum CodingKeys: String, CodingKey {
            case type = "Type", field = "Field", value = "Value"
        }
    }

    struct GetProductsInput: Encodable {
        var serviceCode: String
        var filters: [Filter]
        var formatVersion: String
        var nextToken: String?
        var maxResults: Int?

        enum CodingKeys: String, CodingKey {
            case serviceCode = "ServiceCode", filters = "Filters", formatVersion = "FormatVersion", nextToken = "NextToken", maxResults = "MaxResults"
        }
    }

    public struct GetProductsOutput: Decodable, Sendable {
        public var formatVersion: String?
        /// Each a JSON document: the product (`product.attributes`) and its `terms`.
        public var priceList: [String]
        public var nextToken: String?

        enum CodingKeys: String, CodingKey {
            case formatVersion = "FormatVersion", priceList = "PriceList", nextToken = "NextToken"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            formatVersion = try container.decodeIfPresent(String.self, forKey: .formatVersion)
            priceList = try container.decodeIfPresent([String].self, forKey: .priceList) ?? []
            nextToken = try container.decodeIfPresent(String.self, forKey: .nextToken)
        }
    }

    /// One page of the products of `serviceCode` (`AmazonEC2`) matching every filter, in format `aws_v1`.
    public func getProducts(serviceCode: String, filters: [Filter], nextToken: String? = nil, maxResults: Int? = nil) throws(AWSError) -> GetProductsOutput {
        try json.call("GetProducts", GetProductsInput(serviceCode: serviceCode, filters: filters, formatVersion: "aws_v1", nextToken: nextToken, maxResults: maxResults))
    }
}
