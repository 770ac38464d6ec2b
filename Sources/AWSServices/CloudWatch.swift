import AWSCore

/// CloudWatch over its Query protocol: PutMetricData, for metrics no log extracts (the Batch
/// worker's container log driver does not read Embedded Metric Format).
public struct CloudWatch: Sendable {
    let query: QueryProtocolClient

    public init(client: AWSClient) {
        query = QueryProtocolClient(client: client, service: .cloudWatch, version: "2010-08-01")
    }

    public struct Dimension: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// One value of one metric. No timestamp: CloudWatch stamps it as received, and it is sent at once.
    public struct Datum: Sendable, Equatable {
        public var name: String
        /// At most 30.
        public var dimensions: [Dimension]
        public var value: Double
        /// One of CloudWatch's `StandardUnit` names: `Count`, `Milliseconds`.
        public var unit: String

        public init(name: String, dimensions: [Dimension], value: Double, unit: String) {
            self.name = name
            self.dimensions = dimensions
            self.value = value
            self.unit = unit
        }
    }

    /// CloudWatch takes at most this many data in one PutMetricData.
    static let dataPerCall = 1000

    /// Sends `data` under `namespace`, in as many calls as CloudWatch's limit needs.
    public func putMetricData(namespace: String, _ data: [Datum]) throws(AWSError) {
        for start in stride(from: 0, to: data.count, by: Self.dataPerCall) {
            var p = QueryParameters()
            p.add("Namespace", namespace)
            // awsQuery lists: MetricData.member.N, Dimensions.member.M.
            for (index, datum) in data[start..<min(start + Self.dataPerCall, data.count)].enumerated() {
                let member = "MetricData.member.\(index + 1)"
                p.add("\(member).MetricName", datum.name)
                for (position, dimension) in datum.dimensions.enumerated() {
                    p.add("\(member).Dimensions.member.\(position + 1).Name", dimension.name)
                    p.add("\(member).Dimensions.member.\(position + 1).Value", dimension.value)
                }
                p.add("\(member).Value", String(datum.value))
                p.add("\(member).Unit", datum.unit)
            }
            _ = try query.call("PutMetricData", p)
        }
    }
}
