import AWSCore
import AWSServices
import JobModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the spec's `notify` topic hears when a job fails: a JSON summary of its record, with
/// `job` and `state` also as message attributes for subscription filters.
public enum JobNotification {
    struct Message: Encodable {
        var job: String
        var jobID: String
        var attempt: Int
        var state: JobState
        var statusReason: String?
        var reason: String?
        var exitCode: Int?
        var failingStep: String?
        var instanceID: String?
        /// Where the attempt's full log is: `s3://…`, or the CloudWatch Logs group and stream.
        var log: String?

        /// The message's keys, as subscribers read them.
        enum CodingKeys: String, CodingKey {
            case job, jobID = "jobId", attempt, state, statusReason, reason, exitCode, failingStep, instanceID = "instanceId", log
        }
    }

    public static func publish(_ record: JobRecord, topic: String, sns: SNS, log: String? = nil) throws(AWSError) {
        let message = Message(
            job: record.job, jobID: record.id, attempt: record.attempt, state: record.state, statusReason: record.statusReason,
            reason: record.reason, exitCode: record.exitCode, failingStep: record.failingStep, instanceID: record.instanceID, log: log)
        // Encoding strings and numbers cannot fail.
        let body = (try? JSONEncoder.sorted.encode(message)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try sns.publish(.init(
            topicArn: topic, message: body, subject: String("Sortie: \(record.job) \(record.state.rawValue)".prefix(100)),
            attributes: ["job": record.job, "state": record.state.rawValue]))
    }
}
