import AWSCore
import AWSServices
import ChunkStore
import Foundation
import SortieModel

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
    public var batchQueue: String?
    public var batchDefinition: String?
    /// The job definition's container: the program of the function the submitter invokes for small
    /// chunks (one binary serves Lambda and Batch), with that function's settings.
    public var batchProduct: String?
    public var batchEnvironment: [String: String] = [:]

    public init(definitions: [FunctionDefinition]) {
        var buckets: Set<String> = [bucket]
        var queues: Set<String> = []
        var processorFunction: String?
        for definition in definitions {
            let environment = definition.environment ?? [:]
            table = environment["SORTIE_TABLE"] ?? table
            logGroup = environment["SORTIE_LOG_GROUP"] ?? logGroup
            batchQueue = environment["BATCH_JOB_QUEUE"] ?? batchQueue
            batchDefinition = environment["BATCH_JOB_DEFINITION"] ?? batchDefinition
            processorFunction = environment["CHUNK_PROCESSOR_FUNCTION"] ?? processorFunction
            buckets.formUnion((definition.triggers ?? []).compactMap(\.bucket))
            let feeds = Self.feedResources(environment["SORTIE_FEEDS"])
            buckets.formUnion(feeds.buckets)
            queues.formUnion(feeds.queues)
        }
        self.buckets = buckets.sorted()
        self.queues = queues.sorted()
        if let worker = definitions.first(where: { $0.name == processorFunction }) {
            batchProduct = worker.product
            batchEnvironment = worker.environment ?? [:]
        }
    }

    /// The buckets and queues a feeds document delivers to (read loosely: the functions validate it).
    static func feedResources(_ document: String?) -> (buckets: [String], queues: [String]) {
        guard let document, let root = try? JSONSerialization.jsonObject(with: Data(document.utf8)) as? [String: Any],
              let feeds = root["feeds"] as? [[String: Any]]
        else { return ([], []) }
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

    /// Creates everything; returns the topic's ARN.
    func provision(_ client: AWSClient) throws(AWSError) -> String {
        let dynamoDB = DynamoDB(client: client)
        try dynamoDB.createTable(SortieModel.JobTable.definition(table))
        try dynamoDB.updateTimeToLive(tableName: table, attributeName: SortieModel.JobTable.ttlAttribute)
        let s3 = S3(client: client)
        for bucket in buckets { try s3.createBucket(bucket) }
        let sqs = SQS(client: client)
        for queue in queues { _ = try sqs.createQueue(name: queue) }
        try CloudWatchLogs(client: client).createLogGroup(logGroup)
        if let batchQueue, let batchDefinition, let batchProduct {
            let batch = Batch(client: client)
            let role = try IAM(client: client).createRole(name: "\(batchQueue)-service", servicePrincipal: "batch.amazonaws.com")
            let environment = try batch.createComputeEnvironment(name: "\(batchQueue)-environment", serviceRole: role)
            _ = try batch.createJobQueue(name: batchQueue, computeEnvironments: [environment])
            // As README's Deploy section has it; `BatchAgent` runs the command with the product built here.
            _ = try batch.registerJobDefinition(
                name: batchDefinition,
                container: .init(
                    image: "sortie-chunk-worker", vcpus: 1, memory: 2048, command: BatchParameters.command(executable: batchProduct),
                    environment: batchEnvironment))
        }
        return try SNS(client: client).createTopic(name: topic)
    }
}
