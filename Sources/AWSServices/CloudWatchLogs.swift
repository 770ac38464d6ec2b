import AWSCore

/// CloudWatch Logs over JSON 1.1: the runner ships its job logs here.
public struct CloudWatchLogs: Sendable {
    let json: JSONProtocolClient

    public init(client: AWSClient) {
        json = JSONProtocolClient(client: client, service: .cloudWatchLogs, version: "1.1", targetPrefix: "Logs_20140328")
    }

    struct CreateLogStreamInput: Encodable {
        var logGroupName: String
        var logStreamName: String
    }

    /// Fails with `ResourceAlreadyExistsException` when the stream exists: see `isAlreadyExists`.
    public func createLogStream(group: String, stream: String) throws(AWSError) {
        let _: EmptyOutput = try json.call("CreateLogStream", CreateLogStreamInput(logGroupName: group, logStreamName: stream))
    }

    public struct Event: Codable, Sendable, Equatable {
        /// Milliseconds since the epoch.
        public var timestamp: Int64
        public var message: String
        public init(timestamp: Int64, message: String) {
            self.timestamp = timestamp
            self.message = message
        }
    }

    public struct RejectedEvents: Decodable, Sendable, Equatable {
        public var tooNewLogEventStartIndex: Int?
        public var tooOldLogEventEndIndex: Int?
        public var expiredLogEventEndIndex: Int?
    }

    public struct PutLogEventsOutput: Decodable, Sendable {
        public var nextSequenceToken: String?
        /// Events outside the accepted time window, by index into the sent batch.
        public var rejectedLogEventsInfo: RejectedEvents?
    }

    struct PutLogEventsInput: Encodable {
        var logGroupName: String
        var logStreamName: String
        var logEvents: [Event]
        var sequenceToken: String?
    }

    /// Events are sent oldest first (a stable sort), which the service requires within a batch.
    @discardableResult
    public func putLogEvents(group: String, stream: String, events: [Event], sequenceToken: String? = nil) throws(AWSError) -> PutLogEventsOutput {
        let ordered = events.enumerated().sorted { ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset) }.map(\.element)
        return try json.call("PutLogEvents", PutLogEventsInput(logGroupName: group, logStreamName: stream, logEvents: ordered, sequenceToken: sequenceToken))
    }
}

extension AWSError {
    /// The resource a create call named exists already (log streams, groups).
    public var isAlreadyExists: Bool { code == "ResourceAlreadyExistsException" }
}
