import AWSCore
import AWSServices
import JobModel
import TableSchema

extension JobStore {
    /// The record, and whether it has finished: SUCCEEDED, or FAILED with the decision written
    /// (a FAILED attempt the reactor has yet to decide may still be retried).
    public func outcome(_ id: String) throws(AWSError) -> (record: JobRecord, finished: Bool)? {
        guard let item = try dynamoDB.getItem(.init(tableName: table, key: JobTable.jobKey(id), consistentRead: true)).item else { return nil }
        let record = try decode(item)
        return (record, record.state == .succeeded || (record.state == .failed && item[.settledAt] != nil))
    }

    /// Every job record, optionally of one job kind and in one state, oldest submission first.
    /// A scan: for operators (`sortie jobs`), not for handlers.
    public func records(job: String? = nil, state: JobState? = nil) throws(AWSError) -> [JobRecord] {
        try storedJobs(job: job, state: state).map(\.record)
    }

    /// `records`, each as stored (with its earlier attempts' summaries).
    public func storedJobs(job: String? = nil, state: JobState? = nil) throws(AWSError) -> [StoredJob] {
        var conditions = ["begins_with(#pk, :job)", "#sk = :sk"]
        var names: [JobTable.Attribute] = [.pk, .sk]
        var values: DynamoDB.Item = [":job": .s(JobTable.jobPrefix), ":sk": .s(JobTable.jobSort)]
        if let job {
            conditions.append("#job = :name")
            names.append(.job)
            values[":name"] = .s(job)
        }
        if let state {
            conditions.append("#state = :state")
            names.append(.state)
            values[":state"] = .s(state.rawValue)
        }
        return try scanStored(filter: conditions.joined(separator: " AND "), names: names, values: values)
    }

    /// Every job record still under way, or changed at or after `since` (ms since the epoch), with
    /// its earlier attempts and log, oldest submission first. A scan: for operators (`sortie report`).
    public func storedJobs(activeSince since: Int64) throws(AWSError) -> [StoredJob] {
        var values: DynamoDB.Item = [":job": .s(JobTable.jobPrefix), ":sk": .s(JobTable.jobSort), ":since": .number(since)]
        let finals = JobState.allCases.filter(\.isFinal)
        for state in finals { values[":\(state.rawValue)"] = .s(state.rawValue) }
        let unfinished = finals.map { "#state <> :\($0.rawValue)" }.joined(separator: " AND ")
        let filter = "begins_with(#pk, :job) AND #sk = :sk AND (#updatedAt >= :since OR (\(unfinished)))"
        return try scanStored(filter: filter, names: [.pk, .sk, .updatedAt, .state], values: values)
    }

    /// The job items a filter keeps, page after page, oldest submission first.
    private func scanStored(filter: String, names: [JobTable.Attribute], values: DynamoDB.Item) throws(AWSError) -> [StoredJob] {
        var jobs: [StoredJob] = []
        var start: DynamoDB.Item?
        repeat {
            let page = try dynamoDB.scan(.init(
                tableName: table, filterExpression: filter, expressionAttributeNames: JobTable.names(names),
                expressionAttributeValues: values, exclusiveStartKey: start, consistentRead: true))
            for item in page.items { jobs.append(try stored(item)) }
            start = page.lastEvaluatedKey
        } while start != nil
        return jobs.sorted { ($0.record.submittedAt, $0.record.id) < ($1.record.submittedAt, $1.record.id) }
    }
}
