import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import DevEnvironment
import Foundation
import LocalRuntime
import SortieTestSupport
import Testing

/// Lambda's Invoke endpoint played on 127.0.0.1: accepts every asynchronous invocation (202)
/// and keeps its payload, so a test can run the payloads through the real processor.
public struct InvokeCapture: Sendable {
    public struct Invocation: Sendable {
        public var function: String
        public var payload: Data
    }

    public let server: FakeServer

    public static func start() async throws -> InvokeCapture {
        InvokeCapture(server: try await FakeServer.start { request, _ in
            Self.function(request) == nil ? .json(400, #"{"message":"not an asynchronous Invoke"}"#) : FakeServer.Answer(status: 202)
        })
    }

    /// The function an `Invoke` with `X-Amz-Invocation-Type: Event` names, or nil for any other request.
    private static func function(_ request: FakeServer.Request) -> String? {
        let parts = request.path.split(separator: "/")
        guard request.method == "POST", parts.count == 4, parts[1] == "functions", parts[3] == "invocations",
              request.headers["x-amz-invocation-type"] == "Event" else { return nil }
        return String(parts[2]).removingPercentEncoding
    }

    public var endpoint: String { server.endpoint }
    public var invocations: [Invocation] {
        server.requests.compactMap { request in Self.function(request).map { Invocation(function: $0, payload: request.body) } }
    }
    public func stop() async { await server.stop() }
}

/// Everything one test needs on moto: a job table, buckets, a queue, a Batch queue and job
/// definition, and the environment the two functions run with, each under the role its
/// definition makes (a Batch container under the processor's, the job role).
public struct ChunkWorld: Sendable {
    public let server: MotoServer
    public let client: AWSClient
    public let table: String
    public let bucket: String
    public let outputBucket: String
    public let queueURL: String
    public let batchQueue: String
    public let batchDefinition: String
    /// The AWS credentials each function runs with: its role's.
    public let submitterRole: [String: String]
    public let processorRole: [String: String]

    public static func make() throws -> ChunkWorld {
        let server = try MotoServer.shared()
        let client = try AWSClient.fromEnvironment(AWSEnvironment(server.environment))
        let table = unique("jobs")
        try createJobTable(client, table)
        let bucket = unique("landing"), outputBucket = unique("output")
        try S3(client: client).createBucket(bucket)
        try S3(client: client).createBucket(outputBucket)
        let queueURL = try SQS(client: client).createQueue(name: unique("records"))
        let batch = Batch(client: client)
        let role = try IAM(client: client).createRole(name: unique("batch-role"), servicePrincipal: "batch.amazonaws.com")
        let environment = try batch.createComputeEnvironment(name: unique("env"), serviceRole: role)
        let batchQueue = unique("chunks")
        _ = try batch.createJobQueue(name: batchQueue, computeEnvironments: [environment])
        let batchDefinition = unique("chunk-worker")
        _ = try batch.registerJobDefinition(
            name: batchDefinition,
            container: .init(image: "public.ecr.aws/sortie/chunk-worker:1", vcpus: 2, memory: 4096, command: BatchParameters.command))
        let roles = try DeploymentRoles.create(
            repository: Repository.root, functions: ["s3-submitter", "chunk-processor"], client: client, prefix: "\(unique("world"))-"
        ) { names in
            names.table(table)
            names["SortieLandingBucketName"] = bucket
            names["FeedOutputBucketName"] = outputBucket
            names["FeedQueueNamePrefix"] = queueURL.split(separator: "/").last.map(String.init)
            names["ChunkJobQueue"] = batchQueue
            names["ChunkJobDefinition"] = batchDefinition
        }
        return ChunkWorld(
            server: server, client: client, table: table, bucket: bucket, outputBucket: outputBucket, queueURL: queueURL,
            batchQueue: batchQueue, batchDefinition: batchDefinition,
            submitterRole: try roles.environment("s3-submitter"), processorRole: try roles.environment("chunk-processor"))
    }

    public var s3: S3 { S3(client: client) }
    public var jobTable: FileStore { FileStore(dynamoDB: DynamoDB(client: client), tableName: table) }

    /// A feeds document with one feed under `incoming/` delivering to `destination`.
    public func feeds(format: String = "csv", fields: [FieldRule], destination: Destination) throws -> String {
        let catalog = FeedCatalog(feeds: [Feed(
            name: "orders", prefix: "incoming/", format: format, fields: fields, destination: destination,
            rejects: S3Location(bucket: outputBucket, prefix: "rejects/"))])
        return String(decoding: try JSONEncoder().encode(catalog), as: UTF8.self)
    }

    public func submitterEnvironment(feeds: String, capture: InvokeCapture, extra: [String: String] = [:]) -> [String: String] {
        server.environment.merging(submitterRole) { $1 }.merging([
            "AWS_ENDPOINT_URL_LAMBDA": capture.endpoint, "SORTIE_TABLE": table, "SORTIE_FEEDS": feeds,
            "CHUNK_PROCESSOR_FUNCTION": "chunk-processor", "BATCH_JOB_QUEUE": batchQueue, "BATCH_JOB_DEFINITION": batchDefinition,
            "SKIP_PREFIXES": "tmp/", "AWS_MAX_ATTEMPTS": "2",
            // Tests give invocations a minute or less: keep planning in one unless a test asks otherwise.
            "PLAN_MARGIN_SECONDS": "5",
        ].merging(extra) { $1 }) { $1 }
    }

    public func processorEnvironment(feeds: String, extra: [String: String] = [:]) -> [String: String] {
        server.environment.merging(processorRole) { $1 }.merging(["SORTIE_TABLE": table, "SORTIE_FEEDS": feeds, "SAFETY_MARGIN_SECONDS": "1", "AWS_MAX_ATTEMPTS": "2"].merging(extra) { $1 }) { $1 }
    }

    /// Runs `chunk-processor batch` as Batch runs container `index` of a job: the image's entrypoint and
    /// the job definition's command with its placeholders filled from the job's parameters (`changing` some of them).
    public func runBatchContainer(_ jobID: String, index: Int?, feeds: String, changing: [String: String] = [:], environment extra: [String: String] = [:]) throws -> Command.Result {
        let job = try #require(try Batch(client: client).describeJobs([jobID]).first)
        let command = Batch.resolve(command: job.container?.command ?? [], parameters: (job.parameters ?? [:]).merging(changing) { $1 })
        // The image's entrypoint is the worker; the command is its arguments.
        #expect(command.first == "batch")
        var environment = processorEnvironment(feeds: feeds).merging(extra) { $1 }
        environment["AWS_BATCH_JOB_ID"] = environment["AWS_BATCH_JOB_ID"] ?? index.map { "\(jobID):\($0)" } ?? jobID
        if let index { environment["AWS_BATCH_JOB_ARRAY_INDEX"] = String(index) }
        return try Command.run(try BuiltProducts.executable("chunk-processor"), command, environment: environment)
    }

    /// An S3 notification for an object as S3 would send it: the key form-encoded.
    public func notification(key: String, eTag: String, size: Int, sequencer: String) -> Data {
        S3Notifications.objectCreated(bucket: bucket, key: key, eTag: eTag, size: size, sequencer: sequencer)
    }

    /// Uploads `body`; returns its eTag without quotes.
    public func upload(_ key: String, _ body: [UInt8]) throws -> String {
        let eTag = try s3.putObject(bucket: bucket, key: key, body: Data(body)).eTag ?? ""
        return eTag.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}

/// A built function under the local Runtime API, its logs captured.
public func startFunction(_ product: String, environment: [String: String]) async throws -> LocalFunction {
    try await LocalFunction.start(.init(executable: try BuiltProducts.executable(product), functionName: product, environment: environment, logs: .capture))
}

/// The response body of a successful invocation, or a recorded issue with the function's log.
public func responseBody(_ outcome: InvocationOutcome, _ function: LocalFunction, sourceLocation: SourceLocation = #_sourceLocation) -> Data? {
    guard case .response(_, let body) = outcome else {
        Issue.record("expected a response, got \(outcome)\n\(function.capturedLog.suffix(30000))", sourceLocation: sourceLocation)
        return nil
    }
    return body
}

/// The JSON object of a response.
public func jsonObject(_ data: Data?) -> [String: Any] {
    (data.flatMap { try? JSONSerialization.jsonObject(with: $0) } as? [String: Any]) ?? [:]
}
