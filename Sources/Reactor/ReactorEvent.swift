import JobModel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the reactor is sent, all EventBridge-shaped: an EC2 instance's state change, a spot
/// interruption warning (two minutes before EC2 reclaims the instance), the sweep's schedule, or
/// a runner's `AttemptEnded` on a kept instance (invoked directly).
public struct ReactorEvent: Sendable, Equatable, Decodable {
    public enum Kind: Sendable, Equatable {
        case stateChange(instanceID: String, state: String)
        case interruptionWarning(instanceID: String)
        /// A runner on a kept instance wrote its final record (`AttemptEnded`).
        case attemptEnded(AttemptEnded)
        case sweep
    }

    public var kind: Kind
    /// EventBridge's event id, for the logs.
    public var id: String?

    public init(_ kind: Kind, id: String? = nil) {
        self.kind = kind
        self.id = id
    }

    static let stateChangeType = "EC2 Instance State-change Notification"
    static let interruptionType = "EC2 Spot Instance Interruption Warning"
    static let scheduledType = "Scheduled Event"

    private enum CodingKeys: String, CodingKey { case detailType = "detail-type", detail, id }
    private enum DetailKeys: String, CodingKey { case instanceID = "instance-id", state }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        let type = try container.decode(String.self, forKey: .detailType)
        switch type {
        case Self.stateChangeType:
            let detail = try container.nestedContainer(keyedBy: DetailKeys.self, forKey: .detail)
            kind = .stateChange(instanceID: try detail.decode(String.self, forKey: .instanceID), state: try detail.decode(String.self, forKey: .state))
        case Self.interruptionType:
            let detail = try container.nestedContainer(keyedBy: DetailKeys.self, forKey: .detail)
            kind = .interruptionWarning(instanceID: try detail.decode(String.self, forKey: .instanceID))
        case Self.scheduledType:
            kind = .sweep
        case AttemptEnded.detailType:
            kind = .attemptEnded(try container.decode(AttemptEnded.self, forKey: .detail))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .detailType, in: container,
                debugDescription: "expected '\(Self.stateChangeType)', '\(Self.interruptionType)', '\(Self.scheduledType)' or '\(AttemptEnded.detailType)', not '\(type)'")
        }
    }
}
