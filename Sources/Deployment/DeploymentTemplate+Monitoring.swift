import EmbeddedMetrics
import Foundation

/// What the stack watches: a CloudWatch dashboard of Sortie's own metrics (the functions' EMF
/// lines, namespace `Sortie`) beside Lambda's and SQS's, and alarms to `AlertTopic`. Sortie's
/// metric names come from `Metric`, the type the functions emit them with.
extension DeploymentTemplate {
    /// How often the alarms look, in seconds: the sweeps run about every five minutes.
    static let alarmPeriod = 300

    static var monitoringParameters: [String: Any] { [
        "JobRunnableAlarmSeconds": [
            "Type": "Number", "Default": 3600, "MinValue": 60,
            "Description": "Alarm when a job has waited RUNNABLE (for a slot or capacity) longer than this many seconds.",
        ],
        "FileCompleteAlarmSeconds": [
            "Type": "Number", "Default": 14400, "MinValue": 60,
            "Description": "Alarm when a file has not reached COMPLETE (or FAILED) this many seconds after it arrived.",
        ],
    ] }

    /// The dashboard and the alarms; `functions` are the Lambda functions' logical id prefixes.
    func monitoringResources(functions: [String]) throws -> [String: Any] {
        var resources: [String: Any] = [
            "JobFailedAlarm": Self.alarm(
                "A job FAILED after its retries (or was lost, or refused at launch).", metric: .jobsFailed, statistic: "Sum", threshold: 1),
            "JobRunnableAlarm": Self.alarm(
                "A job has waited RUNNABLE longer than JobRunnableAlarmSeconds.", metric: .oldestRunnableAge, statistic: "Maximum",
                threshold: ref("JobRunnableAlarmSeconds"), comparison: "GreaterThanThreshold"),
            "FileCompleteAlarm": Self.alarm(
                "A file has not completed within FileCompleteAlarmSeconds.", metric: .oldestActiveFileAge, statistic: "Maximum",
                threshold: ref("FileCompleteAlarmSeconds"), comparison: "GreaterThanThreshold"),
        ]
        for id in functions {
            resources["\(id)ErrorsAlarm"] = Self.alarm(
                "The \(id) function reported errors.", namespace: "AWS/Lambda", metricName: "Errors",
                dimensions: [["Name": "FunctionName", "Value": ref("\(id)Function")]], statistic: "Sum", threshold: 1)
            resources["\(id)DeadLetterAlarm"] = Self.alarm(
                "The \(id) function's dead-letter queue is not empty: see `sortie dead-letters`.", namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible", dimensions: [["Name": "QueueName", "Value": getAtt("\(id)DeadLetterQueue", "QueueName")]],
                statistic: "Maximum", threshold: 1)
        }
        resources["Dashboard"] = [
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": ["DashboardName": sub("${AWS::StackName}"), "DashboardBody": sub(try Self.dashboardBody(functions: functions))],
        ]
        return resources
    }

    private static func alarm(
        _ description: String, namespace: String = MetricLine.namespace, metric: Metric? = nil, metricName: String? = nil,
        dimensions: [[String: Any]] = [], statistic: String, threshold: Any, comparison: String = "GreaterThanOrEqualToThreshold"
    ) -> [String: Any] {
        var properties: [String: Any] = [
            "AlarmDescription": description, "Namespace": namespace, "MetricName": metric?.rawValue ?? metricName ?? "",
            "Statistic": statistic, "Period": alarmPeriod, "EvaluationPeriods": 1, "Threshold": threshold, "ComparisonOperator": comparison,
            // No data is no ending, no sweep line yet, or no error: nothing to announce.
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlertTopic")], "OKActions": [ref("AlertTopic")],
        ]
        if !dimensions.isEmpty { properties["Dimensions"] = dimensions }
        return ["Type": "AWS::CloudWatch::Alarm", "Properties": properties]
    }

    /// The dashboard's JSON, for `Fn::Sub` (the region, the functions' and queues' names).
    static func dashboardBody(functions: [String]) throws -> String {
        func sortie(_ title: String, _ metrics: [Metric], stat: String) -> [String: Any] {
            widget(title, metrics.map { [MetricLine.namespace, $0.rawValue] }, stat: stat)
        }
        func each(_ title: String, _ namespace: String, _ metric: String, dimension: String, value: (String) -> String, stat: String) -> [String: Any] {
            widget(title, functions.map { [namespace, metric, dimension, value($0), ["label": $0]] }, stat: stat)
        }
        func widget(_ title: String, _ metrics: [[Any]], stat: String) -> [String: Any] {
            [
                "type": "metric", "width": 8, "height": 6,
                "properties": [
                    "title": title, "view": "timeSeries", "region": "${AWS::Region}", "stat": stat, "period": alarmPeriod, "metrics": metrics,
                ] as [String: Any],
            ]
        }
        let widgets: [[String: Any]] = [
            sortie("Jobs by outcome", [.jobsSucceeded, .jobsRetried, .jobsFailed], stat: "Sum"),
            sortie("Oldest RUNNABLE job (s)", [.oldestRunnableAge], stat: "Maximum"),
            sortie("Jobs by state (each sweep)", [.runnableJobs, .activeJobs, .pendingJobs], stat: "Maximum"),
            sortie("Job duration (ms)", [.jobDuration], stat: "Average"),
            sortie("Queue wait (ms)", [.queueWait], stat: "Average"),
            sortie("Retries: attempt numbers", [.attempts], stat: "Maximum"),
            sortie("Files under way, oldest (s)", [.activeFiles, .oldestActiveFileAge], stat: "Maximum"),
            sortie("Chunks by outcome", [.chunksDone, .chunksIncomplete, .chunksFailed], stat: "Sum"),
            sortie("Records", [.recordsRead, .recordsValid, .recordsDelivered], stat: "Sum"),
            sortie("Rejected records", [.recordsRejected], stat: "Sum"),
            sortie("Chunk delivery time (ms)", [.deliveryTime], stat: "Average"),
            each("Dead-letter queue depth", "AWS/SQS", "ApproximateNumberOfMessagesVisible", dimension: "QueueName", value: { "${\($0)DeadLetterQueue.QueueName}" }, stat: "Maximum"),
            each("Function errors", "AWS/Lambda", "Errors", dimension: "FunctionName", value: { "${\($0)Function}" }, stat: "Sum"),
            each("Function durations (ms)", "AWS/Lambda", "Duration", dimension: "FunctionName", value: { "${\($0)Function}" }, stat: "Average"),
        ]
        // Three to a row, in the order above.
        let placed = widgets.enumerated().map { index, widget in
            widget.merging(["x": (index % 3) * 8, "y": (index / 3) * 6]) { $1 }
        }
        let data = try JSONSerialization.data(withJSONObject: ["widgets": placed], options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
