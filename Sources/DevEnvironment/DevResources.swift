import AWSCore
import AWSServices
import Deployment
import Foundation
import JobModel
import JobStore
import LocalAWS
import TableSchema

/// The AWS resources a deployment's functions name in their definitions (the table, the trigger
/// and rejects buckets, the feeds' queues, the Batch queue and job definition, the log group),
/// plus the bucket that holds published specs, the runner and job logs, and the jobs' topic.
public struct DevResources: Sendable, Equatable {
    public var table = "sortie-jobs"
    /// Specs (`specs/`), job logs (`logs/`).
    public var bucket = "sortie-dev"
    public var buckets: [String] = []
    public var queues: [String] = []
    public var topic = "sortie-jobs"
    public var logGroup = "/sortie/jobs"
    /// The Batch queue and the chunk worker's job definition, as the template deploys them.
    public var chunkJob: ChunkJobDefinition?
    /// The function the submitter sends small chunks to (`CHUNK_PROCESSOR_FUNCTION`).
    public var processorFunction: String?
    /// Every function's dead-letter queue is named `<prefix><function>-dlq` (`sortie dead-letters` lists them).
    public static let deadLetterPrefix = "sortie-"
    public static func deadLetterQueue(_ function: String) -> String { "\(deadLetterPrefix)\(function)-dlq" }

    public init(definitions: [FunctionDefinition]) throws(ChunkJobDefinition.DefinitionError) {
        var buckets: Set<String> = [bucket]
        var queues: Set<String> = []
        for definition in definitions {
            let environment = definition.environment ?? [:]
            table = environment["SORTIE_TABLE"] ?? table
            logGroup = environment["SORTIE_LOG_GROUP"] ?? logGroup
            processorFunction = environment["CHUNK_PROCESSOR_FUNCTION"] ?? processorFunction
            buckets.formUnion((definition.triggers ?? []).compactMap(\.bucket))
            let feeds = Self.feedResources(environment["SORTIE_FEEDS"])
            buckets.formUnion(feeds.buckets)
            queues.formUnion(feeds.queues)
        }
        self.buckets = buckets.sorted()
        self.queues = queues.sorted()
        chunkJob = try ChunkJobDefinition(definitions: definitions)
    }

    /// The buckets and queues a feeds document delivers to (read loosely: the functions validate it).
    static func feedResources(_ document: String?) -> (buckets: [String], queues: [String]) {
        let feeds = feedList(document)
        var buckets: [String] = []
        var queues: [String] = []
        for feed in feeds {
            for target in [feed["destination"], feed["rejects"]].compactMap({ $0 as? [String: Any] }) {
                if let bucket = target["bucket"] as? String { buckets.append(bucket) }
                if let url = target["queueUrl"] as? String, let name = url.split(separator: "/").last { queues.append(String(name)) }
            }
        }
        return (buckets, queues)
    }

    /// What the definitions' names stand for here, once the topic is made.
    func names(_ definitions: [FunctionDefinition], topicARN: String) -> DeploymentNames {
        var names = DeploymentNames(definitions: definitions, region: MotoServer.region, account: MotoServer.accountID)
        names.table(table)
        names.logGroup(logGroup)
        names.topic(topicARN)
        names["ArtifactBucket"] = bucket
        names["JobLogBucket"] = bucket
        if let chunkJob {
            names["ChunkJobQueue"] = chunkJob.queue
            names["ChunkJobDefinition"] = chunkJob.name
        }
        return names
    }

    /// Partitions of each Kafka topic `sortie dev` creates.
    public static let kafkaPartitions = 3

    /// The Kafka topics the definitions' feeds deliver to.
    static func kafkaTopics(_ definitions: [FunctionDefinition]) -> [String] {
        var topics: Set<String> = []
        for definition in definitions {
            for feed in feedList(definition.environment?["SORTIE_FEEDS"]) {
                if let destination = feed["destination"] as? [String: Any], destination["type"] as? String == "kafka",
                   let topic = destination["topic"] as? String { topics.insert(topic) }
            }
        }
        return topics.sorted()
    }

    /// The feeds document with every Kafka destination sent to `bootstrap` in the clear, without SASL.
    static func pointingKafka(_ document: String, at bootstrap: String) -> String {
        guard var root = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else { return document }
        root["feeds"] = feedList(document).map { feed -> [String: Any] in
            guard var destination = feed["destination"] as? [String: Any], destination["type"] as? String == "kafka" else { return feed }
            destination["bootstrapServers"] = bootstrap
            destination["tls"] = false
            destination["auth"] = "none"
            var changed = feed
            changed["destination"] = destination
            return changed
        }
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]) else { return document }
        return String(decoding: data, as: UTF8.self)
    }

    private static func feedList(_ document: String?) -> [[String: Any]] {
        guard let document, let root = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any] else { return [] }
        return root["feeds"] as? [[String: Any]] ?? []
    }

    /// The job table from the schema's own definition (keys, queue indexes, TTL): how `sortie dev`
    /// and every suite and benchmark make it, so none can test against a shape the code never meets.
    public static func createJobTable(_ dynamoDB: DynamoDB, _ name: String) throws(AWSError) {
        try dynamoDB.createTable(JobTable.definition(name))
        try dynamoDB.updateTimeToLive(tableName: name, attributeName: JobTable.ttlAttribute)
    }

    /// Creates everything; returns the topic's ARN.
    func provision(_ client: AWSClient) throws(AWSError) -> String {
        try Self.createJobTable(DynamoDB(client: client), table)
        let s3 = S3(client: client)
        for bucket in buckets { try s3.createBucket(bucket) }
        let sqs = SQS(client: client)
        for queue in queues { _ = try sqs.createQueue(name: queue) }
        try CloudWatchLogs(client: client).createLogGroup(logGroup)
        if let chunkJob {
            let batch = Batch(client: client)
            let role = try IAM(client: client).createRole(name: "\(chunkJob.queue)-service", servicePrincipal: "batch.amazonaws.com")
            let environment = try batch.createComputeEnvironment(name: "\(chunkJob.queue)-environment", serviceRole: role)
            _ = try batch.createJobQueue(name: chunkJob.queue, computeEnvironments: [environment])
            // The template's job definition; `BatchAgent` runs it with the product built here as the image's entrypoint.
            _ = try batch.registerJobDefinition(
                name: chunkJob.name,
                container: .init(
                    image: "sortie-chunk-worker", vcpus: chunkJob.vcpus, memory: chunkJob.memory, command: chunkJob.command,
                    environment: chunkJob.environment(deployed: false)),
                retryStrategy: chunkJob.retryStrategy, timeout: chunkJob.timeout)
        }
        return try SNS(client: client).createTopic(name: topic)
    }
}
