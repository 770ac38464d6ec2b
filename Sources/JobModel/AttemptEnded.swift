#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a runner on a kept instance (`no_shutdown`) sends the retry reactor once its final record
/// is written, shaped as an EventBridge event: the instance, and so EC2's event, may not end for
/// days, and the outcome is to be decided (and notified) at once.
public struct AttemptEnded: Sendable, Equatable, Codable {
    public static let detailType = "Sortie Attempt Ended"
    public static let source = "sortie.runner"

    public var jobID: String
    public var attempt: Int

    public init(jobID: String, attempt: Int) {
        self.jobID = jobID
        self.attempt = attempt
    }

    enum CodingKeys: String, CodingKey { case jobID = "job-id", attempt }

    /// The whole event: `detail-type`, `source` and this as its `detail`.
    public var event: Data {
        get throws {
            struct Event: Encodable {
                var detailType = AttemptEnded.detailType
                var source = AttemptEnded.source
                var detail: AttemptEnded
                enum CodingKeys: String, CodingKey { case detailType = "detail-type", source, detail }
            }
            return try JSONEncoder().encode(Event(detail: self))
        }
    }
}
