/// Nothing sent to a function is dropped unseen: each Lambda function has a dead-letter queue,
/// the OnFailure destination of its asynchronous invocations (Lambda's two retries spent, or the
/// event too old) and the DeadLetterConfig of its EventBridge targets (an event EventBridge could
/// not deliver). `sortie dead-letters` lists and redrives them; the chunk processor's records are
/// decided by the submitter's sweep (a FAILED chunk and file).
extension DeploymentTemplate {
    /// Adds `<Id>DeadLetterQueue`, its policy for EventBridge and `<Id>EventInvokeConfig`; returns
    /// the statement the function's role needs to send to it (Lambda sends as the function).
    func deadLetters(_ id: String, into resources: inout [String: Any]) -> FunctionDefinition.Permission {
        let queue = "\(id)DeadLetterQueue"
        resources[queue] = [
            "Type": "AWS::SQS::Queue",
            // Fourteen days, SQS's longest: time to notice, fix and redrive.
            "Properties": ["MessageRetentionPeriod": 1_209_600, "SqsManagedSseEnabled": true] as [String: Any],
        ]
        resources["\(queue)Policy"] = [
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": [
                "Queues": [ref(queue)],
                "PolicyDocument": [
                    "Version": "2012-10-17",
                    "Statement": [[
                        "Effect": "Allow", "Principal": ["Service": "events.amazonaws.com"], "Action": "sqs:SendMessage",
                        "Resource": getAtt(queue, "Arn"),
                        "Condition": ["ArnLike": ["aws:SourceArn": sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*")]],
                    ] as [String: Any]],
                ] as [String: Any],
            ] as [String: Any],
        ]
        resources["\(id)EventInvokeConfig"] = [
            "Type": "AWS::Lambda::EventInvokeConfig",
            "Properties": [
                "FunctionName": ref("\(id)Function"), "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
                "DestinationConfig": ["OnFailure": ["Destination": getAtt(queue, "Arn")]],
            ] as [String: Any],
        ]
        return FunctionDefinition.Permission(actions: ["sqs:SendMessage"], resources: ["${\(queue).Arn}"])
    }
}
