import AWSCore
import AWSServices
import ChunkPlanning
import ChunkProcessing
import ChunkStore
import FunctionStartup
import LambdaRuntime
import WallTime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ChunkError: LambdaFunctionError {}

/// Processes one chunk per invocation (an asynchronous Invoke from the S3 submitter).
struct ChunkProcessorHandler: ConfiguredHandler {
    let setup: ChunkFunctionSetup<ProcessorConfiguration>

    init(configuration: ChunkFunctionConfiguration<ProcessorConfiguration>, client: Result<AWSClient, AWSError>) throws(ConfigurationError) {
        setup = try ChunkFunctionSetup(configuration, client: client)
    }

    func handle(_ task: ChunkTask, context: LambdaContext) throws -> ChunkOutcome {
        if let early = try ChunkProcessor.precheck(task, nowMilliseconds: WallClock.unixMilliseconds()) {
            context.logger.warning("\(task.chunkID): \(early.status.rawValue), nothing to do")
            return early
        }
        let client = try setup.client.get()
        let processor = ChunkProcessor(
            s3: S3(client: client), sqs: SQS(client: client),
            table: FileStore(dynamoDB: DynamoDB(client: client), tableName: setup.configuration.tableName),
            catalog: setup.catalog, configuration: setup.configuration, retry: client.configuration.retry,
            kafka: KafkaCredentials(client: client, environment: AWSEnvironment.process.variables))
        let outcome = try processor.process(
            task, owner: context.requestID, clock: .system, deadlineMilliseconds: context.deadlineMilliseconds,
            metrics: { Lambda.writeLogLine($0.rendered()) })
        context.logger.info("\(task.chunkID): \(outcome.status.rawValue)")
        return outcome
    }
}

// `--help` needs no environment: the worker image's entrypoint answers it (scripts/worker-image.sh checks).
if BatchWorker.asksForHelp(Array(CommandLine.arguments.dropFirst())) {
    print(BatchWorker.usage)
    exit(0)
}

// `chunk-processor batch …`: the same binary as an AWS Batch job's container (see BatchWorker).
if CommandLine.arguments.dropFirst().first == "batch" {
    let ending = BatchWorker.run(
        arguments: Array(CommandLine.arguments.dropFirst(2)), environment: AWSEnvironment.process.variables,
        clock: .system, emit: Lambda.writeLogLine, output: { print($0) })
    exit(ending.rawValue)
}

Lambda.start(ChunkProcessorHandler.self, name: "chunk-processor")
