import AWSCore

extension CloudWatchLogs {
    private struct CreateLogGroupRequest: Encodable {
        var logGroupName: String
    }

    /// Fails with `ResourceAlreadyExistsException` when the group exists: see `isAlreadyExists`.
    public func createLogGroup(_ name: String) throws(AWSError) {
        let _: EmptyOutput = try json.call("CreateLogGroup", CreateLogGroupRequest(logGroupName: name))
    }

    private struct GetLogEventsRequest: Encodable {
        var logGroupName: String
        var logStreamName: String
        var startFromHead = true
        var nextToken: String?
    }

    private struct GetLogEventsResponse: Decodable {
        var events: [Event]
        var nextForwardToken: String?
    }

    /// Every event of a stream, oldest first, following the forward token until it stops changing.
    public func getLogEvents(group: String, stream: String, maxPages: Int = 100) throws(AWSError) -> [Event] {
        var events: [Event] = []
        var token: String?
        for _ in 0..<maxPages {
            let page: GetLogEventsResponse = try json.call(
                "GetLogEvents", GetLogEventsRequest(logGroupName: group, logStreamName: stream, nextToken: token))
            events += page.events
            // The service signals the end by returning the token it was given.
            guard let next = page.nextForwardToken, next != token, !page.events.isEmpty else { break }
            token = next
        }
        return events
    }
}
