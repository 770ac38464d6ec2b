import AWSCore
import AWSServices
import SortieModel

/// The reactor's own conditional writes on a job record, beside `JobStore`'s transitions. Each
/// is conditional on the attempt and state it acts on, so of two deliveries of one event only
/// one writes, whatever the timing.
extension JobStore {
    /// Attributes the reactor adds to a record: `settledAt` (the attempt's final decision is
    /// written), `notBefore` (a retry's earliest start), `interruptionWarnedAt`, and `attempts`
    /// (one summary per earlier attempt).
    enum Attribute {
        static let settledAt = JobTable.settledAttribute
        static let notBefore = JobTable.notBeforeAttribute
        static let interruptionWarnedAt = "interruptionWarnedAt"
        static let attempts = "attempts"
        /// Written by the runner with its final record.
        static let logURI = "logUri"
        static let logStream = "logStream"
    }

    /// The record as stored, with the attributes `JobRecord` does not carry.
    func storedItem(_ id: String) throws(AWSError) -> DynamoDB.Item? {
        try dynamoDB.getItem(.init(tableName: table, key: JobTable.jobKey(id), consistentRead: true)).item
    }

    /// Marks a SUCCEEDED or FAILED attempt as decided, once: `false` when another delivery did.
    func settle(_ record: JobRecord) throws(AWSError) -> Bool {
        try conditionally(.init(
            tableName: table, key: JobTable.jobKey(record.id), updateExpression: "SET #settled = :now",
            conditionExpression: "#state = :state AND #attempt = :attempt AND attribute_not_exists(#settled)",
            expressionAttributeNames: ["#settled": Attribute.settledAt, "#state": "state", "#attempt": "attempt"],
            expressionAttributeValues: [":now": .number(Self.now()), ":state": .s(record.state.rawValue), ":attempt": .number(record.attempt)]))
    }

    /// FAILED attempt `n` → RUNNABLE attempt `n + 1`, in both queues at its first submission's
    /// place, startable from `notBefore`. The failed attempt's outcome moves into `attempts`;
    /// the new attempt starts with none of it. `false` when another delivery moved it first.
    func requeue(_ record: JobRecord, notBefore: Int64, reason: String, log: String?) throws(AWSError) -> Bool {
        var previous: [String: AttributeValue] = ["attempt": .number(record.attempt)]
        previous["exitCode"] = record.exitCode.map { .number($0) }
        previous["failingStep"] = record.failingStep.map { .s($0) }
        previous["reason"] = record.reason.map { .s($0) }
        previous["statusReason"] = record.statusReason.map { .s($0) }
        previous["instanceId"] = record.instanceID.map { .s($0) }
        previous["log"] = log.map { .s($0) }
        var waiting = record
        waiting.state = .runnable
        let now = Self.now()
        var values: DynamoDB.Item = [
            ":runnable": .s(JobState.runnable.rawValue), ":failed": .s(JobState.failed.rawValue), ":attempt": .number(record.attempt),
            ":next": .number(record.attempt + 1), ":now": .number(now), ":notBefore": .number(notBefore), ":reason": .s(reason),
            ":empty": .l([]), ":previous": .l([.m(previous)]),
            ":entry": .l([.m(["state": .s(JobState.runnable.rawValue), "at": .number(now), "reason": .s(reason)])]),
        ]
        var assignments = [
            "#state = :runnable", "#attempt = :next", "updatedAt = :now", "#statusReason = :reason", "#notBefore = :notBefore",
            "#history = list_append(if_not_exists(#history, :empty), :entry)", "#attempts = list_append(if_not_exists(#attempts, :empty), :previous)",
        ]
        for (name, value) in JobTable.queueAttributes(waiting) {
            values[":\(name)"] = value
            assignments.append("\(name) = :\(name)")
        }
        let cleared = [
            "exitCode", "failingStep", "#reason", "instanceId", "instanceType", "heartbeatAt", "durationMs", "expiresAt", "#settled", "#warned",
            "#logUri", "#logStream", "#capacity",
        ]
        return try conditionally(.init(
            tableName: table, key: JobTable.jobKey(record.id),
            updateExpression: "SET \(assignments.joined(separator: ", ")) REMOVE \(cleared.joined(separator: ", "))",
            conditionExpression: "#state = :failed AND #attempt = :attempt",
            expressionAttributeNames: [
                "#state": "state", "#attempt": "attempt", "#statusReason": "statusReason", "#notBefore": Attribute.notBefore, "#history": "history",
                "#attempts": Attribute.attempts, "#reason": "reason", "#settled": Attribute.settledAt, "#warned": Attribute.interruptionWarnedAt,
                "#logUri": Attribute.logURI, "#logStream": Attribute.logStream, "#capacity": JobTable.capacityShortSinceAttribute,
            ],
            expressionAttributeValues: values))
    }

    private func conditionally(_ input: DynamoDB.UpdateItemInput) throws(AWSError) -> Bool {
        do {
            try dynamoDB.updateItem(input)
            return true
        } catch where error.isConditionalCheckFailed {
            return false
        }
    }
}

extension DynamoDB.Item {
    /// Where the attempt's full log is: the runner's S3 copy, else its CloudWatch Logs stream.
    var jobLog: String? {
        self[JobStore.Attribute.logURI]?.string ?? self[JobStore.Attribute.logStream]?.string
    }
}
