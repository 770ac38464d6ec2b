import EmbeddedMetrics
import SortieTestSupport
import Testing

/// The encoder against the specification's validator, and the validator against the mistakes it
/// must catch. The functions' own lines are validated where they print them (ReactorTests,
/// LauncherTests, ChunkProcessingTests, S3SubmitterTests).
@Suite("embedded metric format")
struct MetricLineTests {
    @Test("a line by a dimension: valid, declared by it and in total, the user's names escaped, units CloudWatch's")
    func rendered() throws {
        let job = "a \"quoted\" \\ name\twith\u{1} control"
        let line = MetricLine(
            dimension: (.job, job), values: Metric.allCases.map { ($0, 7) }, properties: [("JobId", "id-\n1")], timestampMilliseconds: 1_733_450_000_123)
        let document = try EmbeddedMetricFormat.parse(line.rendered())
        #expect(document.timestamp == 1_733_450_000_123)
        #expect(document.directives.count == 1 && document.directives[0].namespace == "Sortie")
        #expect(document.directives[0].dimensionSets == [["Job"], []])
        #expect(document.string("Job") == job && document.string("JobId") == "id-\n1")
        #expect(document.metricNames == Metric.allCases.map(\.rawValue))
        #expect(document.directives[0].metrics.allSatisfy { $0.unit.map(EmbeddedMetricFormat.units.contains) == true })
        #expect(Metric.allCases.allSatisfy { document.values($0.rawValue) == [7] })
        #expect(!line.rendered().contains("\n"), "one log line")
    }

    @Test("totals only: one empty dimension set")
    func totals() throws {
        let document = try EmbeddedMetricFormat.parse(MetricLine(dimension: nil, values: [(.activeFiles, 0)], timestampMilliseconds: 1_733_450_000_000).rendered())
        #expect(document.directives[0].dimensionSets == [[]])
    }

    @Test("the validator refuses what CloudWatch would not extract", arguments: [
        ("not JSON", "one JSON object"),
        (#"{"a":1}"#, "no _aws"),
        (#"{"_aws":{"Timestamp":1733450000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[]}]}}"#, "milliseconds"),
        (#"{"_aws":{"Timestamp":"now","CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[]}]}}"#, "positive integer"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"","Dimensions":[],"Metrics":[]}]}}"#, "Namespace"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[["Job"]],"Metrics":[]}]}}"#, "dimension 'Job'"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[["Job"]],"Metrics":[]}]},"Job":3}"#, "dimension 'Job'"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M"}]}]}}"#, "metric 'M'"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":"3"}"#, "metric 'M'"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":true}"#, "metric 'M'"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M","Unit":"Millis"}]}]},"M":1}"#, "Unit"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M","StorageResolution":5}]}]},"M":1}"#, "StorageResolution"),
        (#"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[]}}"#, "empty"),
    ])
    func refused(line: String, problem: String) {
        #expect {
            try EmbeddedMetricFormat.parse(line)
        } throws: { error in
            (error as? EMFError)?.problems.contains { $0.contains(problem) } == true
        }
    }

    @Test("the validator counts: at most 30 dimension names, 100 metrics, 100 values")
    func limits() {
        let names = (0..<31).map { "D\($0)" }
        let dimensions = names.map { #""\#($0)":"v""# }.joined(separator: ",")
        let tooWide = #"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[[\#(names.map { "\"\($0)\"" }.joined(separator: ","))]],"Metrics":[]}]},\#(dimensions)}"#
        let metrics = (0..<101).map { "M\($0)" }
        let tooMany = #"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[\#(metrics.map { #"{"Name":"\#($0)"}"# }.joined(separator: ","))]}]},\#(metrics.map { #""\#($0)":1"# }.joined(separator: ","))}"#
        let tooLong = #"{"_aws":{"Timestamp":1733450000000,"CloudWatchMetrics":[{"Namespace":"S","Dimensions":[],"Metrics":[{"Name":"M"}]}]},"M":[\#((0..<101).map(String.init).joined(separator: ","))]}"#
        for (line, problem) in [(tooWide, "at most 30"), (tooMany, "at most 100"), (tooLong, "at most 100")] {
            #expect {
                try EmbeddedMetricFormat.parse(line)
            } throws: { error in
                (error as? EMFError)?.problems.contains { $0.contains(problem) } == true
            }
        }
    }
}
