/// Why producing failed. `kind` says whether waiting can help; the message names the broker's
/// error code as Kafka spells it.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The broker is moving, restarting or unreachable: a retry may succeed.
        case retriable
        /// The topic (or partition) does not exist.
        case topicMissing
        /// The credentials were refused (SASL).
        case authentication
        /// The credentials are not allowed to write to the topic.
        case authorization
        /// A batch the broker will not take whatever we do.
        case recordTooLarge
        /// Anything else the broker refused, or an answer we cannot read.
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Kafka: \(message)" }

    /// The error code of a response, by Kafka's protocol guide; nil for 0 (none).
    static func code(_ code: Int16, _ context: String) -> KafkaError? {
        guard code != 0 else { return nil }
        let (name, kind) = codes[code] ?? ("error code \(code)", .failed)
        return KafkaError(kind, "\(context): \(name)")
    }

    private static let codes: [Int16: (String, Kind)] = [
        -1: ("UNKNOWN_SERVER_ERROR", .failed),
        2: ("CORRUPT_MESSAGE", .retriable),
        3: ("UNKNOWN_TOPIC_OR_PARTITION", .topicMissing),
        5: ("LEADER_NOT_AVAILABLE", .retriable),
        6: ("NOT_LEADER_OR_FOLLOWER", .retriable),
        7: ("REQUEST_TIMED_OUT", .retriable),
        8: ("BROKER_NOT_AVAILABLE", .retriable),
        10: ("MESSAGE_TOO_LARGE", .recordTooLarge),
        13: ("NETWORK_EXCEPTION", .retriable),
        14: ("COORDINATOR_LOAD_IN_PROGRESS", .retriable),
        15: ("COORDINATOR_NOT_AVAILABLE", .retriable),
        16: ("NOT_COORDINATOR", .retriable),
        17: ("INVALID_TOPIC_EXCEPTION", .topicMissing),
        18: ("RECORD_LIST_TOO_LARGE", .recordTooLarge),
        19: ("NOT_ENOUGH_REPLICAS", .retriable),
        20: ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", .retriable),
        21: ("INVALID_REQUIRED_ACKS", .failed),
        29: ("TOPIC_AUTHORIZATION_FAILED", .authorization),
        31: ("CLUSTER_AUTHORIZATION_FAILED", .authorization),
        33: ("UNSUPPORTED_SASL_MECHANISM", .authentication),
        34: ("ILLEGAL_SASL_STATE", .authentication),
        35: ("UNSUPPORTED_VERSION", .failed),
        45: ("OUT_OF_ORDER_SEQUENCE_NUMBER", .failed),
        47: ("INVALID_PRODUCER_EPOCH", .failed),
        56: ("KAFKA_STORAGE_ERROR", .retriable),
        58: ("SASL_AUTHENTICATION_FAILED", .authentication),
        59: ("UNKNOWN_PRODUCER_ID", .failed),
        74: ("FENCED_LEADER_EPOCH", .retriable),
        75: ("UNKNOWN_LEADER_EPOCH", .retriable),
        87: ("INVALID_RECORD", .failed),
    ]

    /// `DUPLICATE_SEQUENCE_NUMBER`: the broker already holds the batch (our retry of a write whose
    /// answer was lost), which is success for an idempotent producer.
    static let duplicateSequence: Int16 = 46
}
