import JSONText

/// One ending's metrics as a CloudWatch Embedded Metric Format line: CloudWatch Logs extracts the
/// metrics from a function's log (the line must be the JSON alone), keeping the other members
/// (ids, outcome) as searchable properties. The Batch worker, whose log driver does not extract
/// them, sends the same `values` with PutMetricData.
public struct MetricLine: Sendable {
    public static let namespace = "Sortie"

    /// The dimension and its value (the job's or feed's name); `nil` for totals only.
    public var dimension: (name: MetricDimension, value: String)?
    public var values: [(metric: Metric, value: Int64)]
    /// Members logged beside the metrics, not extracted: `JobId`, `Outcome`, `ChunkId`.
    public var properties: [(name: String, value: String)]
    /// Milliseconds since the epoch.
    public var timestampMilliseconds: Int64

    public init(
        dimension: (name: MetricDimension, value: String)?, values: [(metric: Metric, value: Int64)], properties: [(name: String, value: String)] = [],
        timestampMilliseconds: Int64
    ) {
        self.dimension = dimension
        self.values = values
        self.properties = properties
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// `[[dimension], []]`: by the dimension and in total, both from one line.
    public var dimensionSets: [[MetricDimension]] { dimension.map { [[$0.name], []] } ?? [[]] }

    /// The values as CloudWatch records them from the line: each metric once per dimension set.
    /// What is sent with PutMetricData where no log extracts the line.
    public var datapoints: [(metric: Metric, dimensions: [(name: String, value: String)], value: Int64)] {
        let sets: [[(name: String, value: String)]] = dimension.map { [[($0.name.rawValue, $0.value)], []] } ?? [[]]
        return values.flatMap { value in sets.map { (value.metric, $0, value.value) } }
    }

    /// The line, JSON on one line.
    public func rendered() -> String {
        let sets = dimensionSets.map { "[" + $0.map { JSONText.quote($0.rawValue) }.joined(separator: ",") + "]" }.joined(separator: ",")
        let definitions = values.map { #"{"Name":\#(JSONText.quote($0.metric.rawValue)),"Unit":"\#($0.metric.unit)"}"# }.joined(separator: ",")
        var members = [#""_aws":{"Timestamp":\#(timestampMilliseconds),"CloudWatchMetrics":[{"Namespace":"\#(Self.namespace)","Dimensions":[\#(sets)],"Metrics":[\#(definitions)]}]}"#]
        if let dimension { members.append("\(JSONText.quote(dimension.name.rawValue)):\(JSONText.quote(dimension.value))") }
        members += properties.map { "\(JSONText.quote($0.name)):\(JSONText.quote($0.value))" }
        members += values.map { "\(JSONText.quote($0.metric.rawValue)):\($0.value)" }
        return "{" + members.joined(separator: ",") + "}"
    }
}
