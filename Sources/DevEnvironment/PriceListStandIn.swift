import Foundation
import LoopbackHTTP
import Synchronization

/// The AWS Price List API's GetProducts on 127.0.0.1, for `sortie dev` and the tests (moto has no
/// Price List): it answers from recorded GetProducts responses (`events/pricing/*.json`, the real
/// shape: each `PriceList` entry a product's JSON document in a string), filtering their products
/// as the service does: by service code and by every `TERM_MATCH`/`EQUALS` filter on an attribute.
/// As strict as the service on what it checks: JSON 1.1 with `AWSPriceListService.GetProducts`,
/// a SigV4 `Authorization` scoped to `us-east-1/pricing` (the one region the API is in), a
/// `ServiceCode`, `FormatVersion` `aws_v1`, `MaxResults` 1–100, pages by `NextToken`.
public final class PriceListStandIn: Sendable {
    private let server: LoopbackHTTPServer
    private let service: Service

    public var endpoint: String { server.endpoint }
    /// How many GetProducts requests it answered (a price kept in the table asks none).
    public var requests: Int { service.requests.withLock { $0 } }

    private init(server: LoopbackHTTPServer, service: Service) {
        self.server = server
        self.service = service
    }

    /// The recorded answers in the repository.
    public static func recordings(in repository: URL) -> URL { repository.appendingPathComponent("events/pricing") }

    /// How many recorded products it serves.
    public var products: Int { service.products.count }

    /// Serves every product of every `*.json` response in `recordings`; none when there is no such
    /// folder (a repository of its own under `sortie dev`: every on-demand price is then unknown).
    public static func start(recordings: URL) async throws -> PriceListStandIn {
        var products: [Product] = []
        let files = FileManager.default.fileExists(atPath: recordings.path)
            ? try FileManager.default.contentsOfDirectory(at: recordings, includingPropertiesForKeys: nil).filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
            : []
        for file in files {
            struct Recorded: Decodable {
                var PriceList: [String]
            }
            for entry in try JSONDecoder().decode(Recorded.self, from: Data(contentsOf: file)).PriceList {
                guard let document = try JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any],
                      let attributes = (document["product"] as? [String: Any])?["attributes"] as? [String: String],
                      let code = document["serviceCode"] as? String else {
                    throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: file.path])
                }
                products.append(Product(serviceCode: code, attributes: attributes, entry: entry))
            }
        }
        let service = Service(products: products)
        let server = try await LoopbackHTTPServer.start { request in service.respond(to: request) }
        return PriceListStandIn(server: server, service: service)
    }

    public func stop() async { await server.stop() }
}

extension PriceListStandIn {
    struct Product: Sendable {
        var serviceCode: String
        var attributes: [String: String]
        /// The recorded PriceList entry, as the service sends it.
        var entry: String
    }

    final class Service: Sendable {
        let products: [Product]
        let requests = Mutex(0)

        init(products: [Product]) {
            self.products = products
        }

        struct Request: Decodable {
            struct Filter: Decodable {
                var `Type`: String
                var Field: String
                var Value: String
            }
            var ServiceCode: String?
            var Filters: [Filter]?
            var FormatVersion: String?
            var NextToken: String?
            var MaxResults: Int?
        }

        func respond(to request: LoopbackRequest) -> LoopbackResponse {
            guard request.method == "POST", request.path == "/" else { return error(404, "UnknownOperationException", "\(request.method) \(request.path)") }
            guard request.header("X-Amz-Target") == "AWSPriceListService.GetProducts" else {
                return error(400, "UnknownOperationException", "only AWSPriceListService.GetProducts is served, not \(request.header("X-Amz-Target") ?? "none")")
            }
            guard request.header("Content-Type") == "application/x-amz-json-1.1" else { return error(400, "SerializationException", "expected application/x-amz-json-1.1") }
            guard let authorization = request.header("Authorization"), authorization.hasPrefix("AWS4-HMAC-SHA256 Credential="),
                  authorization.contains("/us-east-1/pricing/aws4_request") else {
                return error(403, "IncompleteSignatureException", "a SigV4 signature for us-east-1/pricing is required")
            }
            guard let input = try? JSONDecoder().decode(Request.self, from: Data(request.body)) else { return error(400, "SerializationException", "the body is not a GetProducts request") }
            guard let code = input.ServiceCode, !code.isEmpty else { return error(400, "ValidationException", "ServiceCode is required") }
            guard input.FormatVersion == nil || input.FormatVersion == "aws_v1" else { return error(400, "InvalidParameterException", "FormatVersion must be aws_v1") }
            let limit = input.MaxResults ?? 100
            guard (1...100).contains(limit) else { return error(400, "ValidationException", "MaxResults must be 1 to 100") }
            let filters = input.Filters ?? []
            if let bad = filters.first(where: { !["TERM_MATCH", "EQUALS"].contains($0.Type) }) {
                return error(400, "InvalidParameterException", "filter type \(bad.Type) is not served by this stand-in")
            }
            requests.withLock { $0 += 1 }
            let matching = products.filter { product in
                product.serviceCode == code
                    && filters.allSatisfy { $0.Field == "ServiceCode" ? $0.Value == code : product.attributes[$0.Field] == $0.Value }
            }
            let start = input.NextToken.flatMap(Int.init) ?? 0
            guard start >= 0, start <= matching.count else { return error(400, "InvalidNextTokenException", "unknown NextToken") }
            let page = matching[start..<min(start + limit, matching.count)]
            var answer: [String: Any] = ["FormatVersion": "aws_v1", "PriceList": page.map(\.entry)]
            if page.endIndex < matching.count { answer["NextToken"] = String(page.endIndex) }
            return json(200, answer)
        }

        private func error(_ status: Int, _ type: String, _ message: String) -> LoopbackResponse {
            json(status, ["__type": type, "message": message])
        }

        private func json(_ status: Int, _ object: [String: Any]) -> LoopbackResponse {
            let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return LoopbackResponse(status: status, headers: [("Content-Type", "application/x-amz-json-1.1")], body: Array(body))
        }
    }
}
