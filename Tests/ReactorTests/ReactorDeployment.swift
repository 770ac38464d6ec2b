import AWSCore
import AWSServices
import DevEnvironment
import Foundation
import Launcher
import Logging
import Reactor
import ReactorTestSupport
import JobModel
import SortieTestSupport
import Testing

/// A Sortie deployment in moto for the reactor: the common one (`Deployment`: the job table, a
/// bucket for specs and logs), a topic whose notifications land in a queue, and a launcher and
/// reactor configured for them, each under the role its definition makes. Reads `base`'s
/// properties as its own.
@dynamicMemberLookup
struct ReactorDeployment: Sendable {
    let base: Deployment
    let topic: String
    let notifications: String
    /// The reactor's settings and its role's credentials.
    let environment: [String: String]

    subscript<T>(dynamicMember property: KeyPath<Deployment, T>) -> T { base[keyPath: property] }
    /// The metrics lines the reactor and launcher built here emitted.
    let metrics = EmittedLines()

    static func create(backoffSeconds: Int = 0, extra: [String: String] = [:]) async throws -> ReactorDeployment {
        let (base, (topic, queue)) = try await Deployment.create(functions: ["retry-reactor", "launcher"]) { client, id in
            let queue = try SQS(client: client).createQueue(name: "notify-\(id)")
            let topic = try SNS(client: client).createTopic(name: "jobs-\(id)")
            var subscribe = QueryParameters()
            subscribe.add("TopicArn", topic)
            subscribe.add("Protocol", "sqs")
            subscribe.add("Endpoint", "arn:aws:sqs:\(MotoServer.region):\(MotoServer.accountID):notify-\(id)")
            _ = try QueryProtocolClient(client: client, service: .sns, version: "2010-03-31").call("Subscribe", subscribe)
            return (topic, queue)
        } naming: { made, names in
            names.topic(made.0)
        }
        let (server, bucket, table) = (base.server, base.bucket, base.table)
        let environment = server.environment.merging(try base.roles.environment("retry-reactor")) { $1 }.merging([
            "SORTIE_TABLE": table, "SORTIE_SPECS": "s3://\(bucket)/specs/", "SORTIE_RUNNER_URL": "s3://\(bucket)/bin/sortie-runner",
            "SORTIE_LOG_BUCKET": bucket, "SORTIE_RETRY_BACKOFF_SECONDS": String(backoffSeconds),
        ].merging(extra) { $1 }) { $1 }
        return ReactorDeployment(base: base, topic: topic, notifications: queue, environment: environment)
    }

    static var logger: Logger {
        var logger = Logger(label: "test.reactor")
        logger.logLevel = .warning
        return logger
    }

    var ec2: EC2 { EC2(client: base.client) }

    func reactor() throws -> Reactor {
        Reactor(
            configuration: try ReactorConfiguration.fromEnvironment(environment),
            client: try AWSClient.fromEnvironment(AWSEnvironment(environment)), emit: metrics.emit)
    }

    func launcher() throws -> Launcher {
        let environment = environment.merging(try base.roles.environment("launcher")) { $1 }
        return Launcher(
            configuration: try LauncherConfiguration.fromEnvironment(environment),
            client: try AWSClient.fromEnvironment(AWSEnvironment(environment)), emit: metrics.emit)
    }

    /// A spec that notifies this deployment's topic; published as `sortie publish` does.
    func publish(
        _ name: String, maxConcurrency: Int = 1, retry: RetryStrategy = RetryStrategy(), priority: Int = 0, timeoutSeconds: Int = 600, dependsOn: [String] = [],
        array: JobSpec.ArraySpec? = nil, nToN: [String] = []
    ) async throws -> JobSpec {
        let spec = JobSpec(
            name: name, instance: InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890"),
            arguments: ["date": .init(defaultValue: "2024-04-30")], steps: [.init(name: "load", run: "./load \"$SORTIE_ARG_date\"")],
            timeoutSeconds: timeoutSeconds, retry: retry, maxConcurrency: maxConcurrency, priority: priority, notify: topic, dependsOn: dependsOn,
            array: array, nToN: nToN)
        try await base.publish(spec)
        return spec
    }

    /// Publishes a kind, submits one job of it and returns it STARTING on its instance.
    func startedJob(_ prefix: String, retry: RetryStrategy) async throws -> (name: String, record: JobRecord, instance: String) {
        let name = Deployment.uniqueName(prefix)
        _ = try await publish(name, retry: retry)
        let record = try await record(try #require(try await submit(name).jobID))
        #expect(record.state == .starting)
        return (name, record, try #require(record.instanceID))
    }

    /// Submits a job through the launcher, as a manual event would.
    func submit(_ job: String, arguments: [String: String] = [:], dependsOn: [String] = [], eventID: String = UUID().uuidString) async throws -> LaunchResponse {
        try await launch(LaunchEvent(job: job, arguments: arguments, eventID: eventID, dependsOn: dependsOn))
    }

    func launch(_ event: LaunchEvent) async throws -> LaunchResponse {
        let launcher = try launcher()
        return try await blocking { try launcher.launch(event, requestID: UUID().uuidString, logger: Self.logger) }
    }

    func record(_ id: String) async throws -> JobRecord {
        try #require(try await base.record(id))
    }

    var runner: RunnerStandIn { RunnerStandIn(store: base.store, logBucket: base.bucket) }

    /// What a runner writes: RUNNING when it starts, then its final record (freeing the slots).
    func runnerReports(_ record: JobRecord, exitCode: Int) async throws {
        let runner = runner
        try await blocking { try runner.run(record, exitCode: exitCode) }
    }

    /// The runner's start alone: RUNNING with a heartbeat.
    func runnerBegins(_ record: JobRecord, heartbeatAt: Int64) async throws {
        let runner = runner
        #expect(try await blocking { try runner.begin(record, heartbeatAt: heartbeatAt) })
    }

    func terminate(_ instanceID: String) async throws {
        let ec2 = ec2
        try await blocking { try ec2.terminateInstances([instanceID]) }
    }

    /// A sample from `events/`, aimed at `instanceID`, with a fresh event id.
    static func event(_ file: String, instanceID: String?) throws -> Data {
        var event = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Repository.root.appendingPathComponent("events/\(file)"))) as? [String: Any])
        event["id"] = UUID().uuidString
        if let instanceID, var detail = event["detail"] as? [String: Any] {
            detail["instance-id"] = instanceID
            event["detail"] = detail
            event["resources"] = ["arn:aws:ec2:\(MotoServer.region):\(MotoServer.accountID):instance/\(instanceID)"]
        }
        return try JSONSerialization.data(withJSONObject: event)
    }

    /// Sends the reactor the event in `file` (decoded as the function decodes it).
    func send(_ file: String, instanceID: String? = nil) async throws -> ReactorResponse {
        let event = try JSONDecoder().decode(ReactorEvent.self, from: Self.event(file, instanceID: instanceID))
        let reactor = try reactor()
        return try await blocking { try reactor.handle(event, logger: Self.logger) }
    }

    /// Terminates the instance in EC2, then delivers its `terminated` event.
    func endInstance(_ instanceID: String) async throws -> ReactorResponse {
        try await terminate(instanceID)
        return try await send("ec2-state-change-terminated.json", instanceID: instanceID)
    }

    /// Notifications that arrived on the topic: each SNS envelope's message, decoded.
    func receivedNotifications() async throws -> [[String: Any]] {
        let (sqs, queue) = (SQS(client: base.client), notifications)
        // Each one read is deleted: on a loaded machine a test can outlast the queue's visibility
        // timeout, and a notification read earlier would come back as if sent again.
        let bodies = try await blocking {
            let messages = try sqs.receiveMessages(queueURL: queue, maxMessages: 10)
            for message in messages { try sqs.deleteMessage(queueURL: queue, receiptHandle: message.receiptHandle) }
            return messages.map(\.body)
        }
        return try bodies.map { body in
            let envelope = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let message = try #require(envelope["Message"] as? String)
            return try #require(try JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any])
        }
    }

    /// The ClientToken an instance was launched with.
    func clientToken(_ instanceID: String) async throws -> String? {
        let client = base.client
        return try await blocking { () throws -> String? in
            var parameters = QueryParameters()
            parameters.add("InstanceId.1", instanceID)
            let root = try QueryProtocolClient(client: client, service: .ec2, version: "2016-11-15").call("DescribeInstances", parameters)
            return root.first(named: "instancesSet")?.child("item")?.string("clientToken")
        }
    }

    /// Every instance launched for a job kind, oldest first.
    func instances(job: String) async throws -> [EC2.Instance] {
        let ec2 = ec2
        return try await blocking {
            try ec2.describeInstances(filters: [.init(name: "tag:sortie:job", values: [job])]).instances
        }.sorted { ($0.launchTime ?? "", $0.tag("sortie:attempt") ?? "") < ($1.launchTime ?? "", $1.tag("sortie:attempt") ?? "") }
    }

    /// The runner payload in an instance's UserData: what it was asked to run.
    func payload(_ instanceID: String) async throws -> RunnerPayload {
        let encoded = try await base.instanceAttribute(instanceID, "userData") ?? ""
        let script = String(decoding: Data(base64Encoded: encoded) ?? Data(), as: UTF8.self)
        // The base64 lines between the heredoc markers (see `UserData.render`).
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasSuffix("<<'SORTIE_PAYLOAD'") })
        let end = try #require(lines[start...].firstIndex { $0 == "SORTIE_PAYLOAD" })
        let json = try #require(Data(base64Encoded: lines[(start + 1)..<end].joined()))
        return try JSONDecoder().decode(RunnerPayload.self, from: json)
    }
}
