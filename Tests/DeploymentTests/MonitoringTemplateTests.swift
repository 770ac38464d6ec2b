import EmbeddedMetrics
import Foundation
import SortieTestSupport
import Testing
import Yams

/// The dashboard and alarms of the committed `functions/template.yaml` (CI runs cfn-lint on it):
/// each alarm watching what it says and notifying the alert topic, the dashboard naming every
/// function and queue, and every Sortie metric either references being one the functions emit.
@Suite("deployment template: metrics and alarms")
struct MonitoringTemplateTests {
    let document: [String: Any]
    let resources: [String: [String: Any]]
    /// The Lambda functions' logical id prefixes.
    let functions: [String]

    init() throws {
        let text = try String(contentsOf: Repository.root.appendingPathComponent("functions/template.yaml"), encoding: .utf8)
        document = try #require(try Yams.load(yaml: text) as? [String: Any])
        resources = try #require(document["Resources"] as? [String: [String: Any]])
        functions = resources.filter { $0.value["Type"] as? String == "AWS::Lambda::Function" }.map { String($0.key.dropLast("Function".count)) }.sorted()
    }

    func properties(_ name: String) throws -> [String: Any] {
        try #require(resources[name]?["Properties"] as? [String: Any], "no \(name)")
    }

    var emitted: Set<String> { Set(Metric.allCases.map(\.rawValue)) }

    /// A value as sorted JSON, to compare YAML's and Swift's dictionaries.
    func canonical(_ value: Any?) -> String? {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: [value], options: .sortedKeys) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    @Test("alarms: a job FAILED, a job RUNNABLE and a file not COMPLETE past their parameters, each dead-letter queue, each function's errors; all to AlertTopic")
    func alarms() throws {
        let parameters = try #require(document["Parameters"] as? [String: [String: Any]])
        for name in ["JobRunnableAlarmSeconds", "FileCompleteAlarmSeconds"] {
            #expect(parameters[name]?["Type"] as? String == "Number" && (parameters[name]?["Default"] as? Int ?? 0) >= 60, "\(name)")
        }
        func expectAlarm(_ name: String, namespace: String, metric: String, statistic: String, threshold: Any, dimension: (String, Any)? = nil) throws {
            let alarm = try properties(name)
            #expect(resources[name]?["Type"] as? String == "AWS::CloudWatch::Alarm", "\(name)")
            #expect(alarm["Namespace"] as? String == namespace && alarm["MetricName"] as? String == metric && alarm["Statistic"] as? String == statistic, "\(name)")
            #expect(canonical(alarm["Threshold"]) == canonical(threshold), "\(name)")
            #expect((alarm["AlarmActions"] as? [[String: String]]) == [["Ref": "AlertTopic"]], "\(name)")
            #expect((alarm["ComparisonOperator"] as? String)?.hasPrefix("GreaterThan") == true && alarm["TreatMissingData"] as? String == "notBreaching", "\(name)")
            let dimensions = alarm["Dimensions"] as? [[String: Any]] ?? []
            if let (key, value) = dimension {
                #expect(dimensions.count == 1 && dimensions.first?["Name"] as? String == key && canonical(dimensions.first?["Value"]) == canonical(value), "\(name)")
            } else {
                // Sortie's totals: the lines carry an empty dimension set for exactly this.
                #expect(dimensions.isEmpty, "\(name)")
            }
        }
        try expectAlarm("JobFailedAlarm", namespace: "Sortie", metric: Metric.jobsFailed.rawValue, statistic: "Sum", threshold: 1)
        try expectAlarm("JobRunnableAlarm", namespace: "Sortie", metric: Metric.oldestRunnableAge.rawValue, statistic: "Maximum", threshold: ["Ref": "JobRunnableAlarmSeconds"])
        try expectAlarm("FileCompleteAlarm", namespace: "Sortie", metric: Metric.oldestActiveFileAge.rawValue, statistic: "Maximum", threshold: ["Ref": "FileCompleteAlarmSeconds"])
        #expect(Metric.oldestRunnableAge.unit == "Seconds" && Metric.oldestActiveFileAge.unit == "Seconds", "the thresholds are in seconds")
        #expect(Set(["ChunkProcessor", "Launcher", "RetryReactor", "S3Submitter"]).isSubset(of: functions), "\(functions)")
        for id in functions {
            try expectAlarm("\(id)ErrorsAlarm", namespace: "AWS/Lambda", metric: "Errors", statistic: "Sum", threshold: 1, dimension: ("FunctionName", ["Ref": "\(id)Function"]))
            try expectAlarm(
                "\(id)DeadLetterAlarm", namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", statistic: "Maximum", threshold: 1,
                dimension: ("QueueName", ["Fn::GetAtt": ["\(id)DeadLetterQueue", "QueueName"]]))
        }
        // Every Sortie metric an alarm reads is emitted.
        let alarmed = resources.values.filter { $0["Type"] as? String == "AWS::CloudWatch::Alarm" }.compactMap { $0["Properties"] as? [String: Any] }
            .filter { $0["Namespace"] as? String == "Sortie" }.compactMap { $0["MetricName"] as? String }
        #expect(!alarmed.isEmpty && Set(alarmed).isSubset(of: emitted), "\(Set(alarmed).subtracting(emitted))")
    }

    @Test("the dashboard graphs every metric the functions emit (and only those), each function's errors and durations, and each dead-letter queue")
    func dashboard() throws {
        let dashboard = try properties("Dashboard")
        #expect(resources["Dashboard"]?["Type"] as? String == "AWS::CloudWatch::Dashboard")
        let body = try #require((dashboard["DashboardBody"] as? [String: String])?["Fn::Sub"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let widgets = try #require(json["widgets"] as? [[String: Any]])
        let series = widgets.flatMap { (($0["properties"] as? [String: Any])?["metrics"] as? [[Any]]) ?? [] }
        let sortie = Set(series.filter { $0.first as? String == "Sortie" }.compactMap { $0.dropFirst().first as? String })
        #expect(sortie == emitted, "graphed but not emitted: \(sortie.subtracting(emitted)); emitted but not graphed: \(emitted.subtracting(sortie))")
        func graphed(_ namespace: String, _ metric: String) -> [String] {
            series.filter { $0.count >= 4 && $0[0] as? String == namespace && $0[1] as? String == metric }.compactMap { $0[3] as? String }
        }
        #expect(graphed("AWS/Lambda", "Errors") == functions.map { "${\($0)Function}" })
        #expect(graphed("AWS/Lambda", "Duration") == functions.map { "${\($0)Function}" })
        #expect(graphed("AWS/SQS", "ApproximateNumberOfMessagesVisible") == functions.map { "${\($0)DeadLetterQueue.QueueName}" })
        // Every ${…} the body substitutes is a resource or a pseudo parameter.
        let names = body.matches(of: /\$\{([A-Za-z:]+)(\.[A-Za-z]+)?\}/).map { String($0.1) }
        #expect(!names.isEmpty && names.allSatisfy { $0.hasPrefix("AWS::") || resources[$0] != nil }, "\(names.filter { !$0.hasPrefix("AWS::") && resources[$0] == nil })")
        // Placed on a 24-column grid without overlapping.
        let cells = widgets.map { ($0["x"] as? Int ?? -1, $0["y"] as? Int ?? -1, $0["width"] as? Int ?? 0) }
        #expect(cells.allSatisfy { $0.0 >= 0 && $0.0 + $0.2 <= 24 } && Set(cells.map { "\($0.0),\($0.1)" }).count == cells.count)
    }
}
