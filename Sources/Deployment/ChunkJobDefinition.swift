import AWSServices
import ChunkStore
import S3Submitter

/// The chunk worker's AWS Batch job definition, derived from the function definitions: what
/// `sortie template` deploys, what `sortie dev` registers in moto and what its Batch agent runs.
/// One source, so what runs locally is what the stack deploys.
///
/// The submitter is the definition that names a job definition (`BATCH_JOB_DEFINITION`); the worker
/// is the function it invokes for small chunks (`CHUNK_PROCESSOR_FUNCTION`): one binary serves
/// Lambda and Batch. The image's entrypoint is that program; the command is its arguments (the
/// job's parameters, `BatchParameters.command`); the environment and the job role's permissions are
/// the worker function's; the retry strategy is the one the submitter sends with every job
/// (`SubmitterConfiguration`), the timeout its default: each job carries its feed's attempt duration,
/// and `SORTIE_ATTEMPT_SECONDS` in its environment so the worker stops cleanly before Batch kills it.
public struct ChunkJobDefinition: Sendable, Equatable {
    /// `BATCH_JOB_DEFINITION` and `BATCH_JOB_QUEUE` as the submitter's definition has them.
    public var name: String
    public var queue: String
    /// The worker function's definition.
    public var worker: FunctionDefinition
    public var command: [String]
    public var retryStrategy: Batch.RetryStrategy
    public var timeout: Batch.JobTimeout
    /// Each container's share: the worker reads one chunk (up to `CHUNK_MAX_BYTES`) at a time.
    public var vcpus = 2
    /// MiB.
    public var memory = 4096

    /// The image's entrypoint: the worker's program.
    public var program: String { worker.product }

    /// A definition set whose submitter or worker cannot be read, named.
    public struct DefinitionError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Nil when no definition submits to Batch.
    public init?(definitions: [FunctionDefinition]) throws(DefinitionError) {
        guard let submitter = definitions.first(where: { $0.environment?["BATCH_JOB_DEFINITION"] != nil }) else { return nil }
        let configuration: SubmitterConfiguration
        do {
            configuration = try SubmitterConfiguration.fromEnvironment(submitter.environment ?? [:])
        } catch {
            throw DefinitionError(description: "\(submitter.name): \(error)")
        }
        guard let worker = definitions.first(where: { $0.name == configuration.processorFunction }) else {
            throw DefinitionError(description: "\(submitter.name): CHUNK_PROCESSOR_FUNCTION names '\(configuration.processorFunction)', which has no definition")
        }
        name = configuration.batchJobDefinition
        queue = configuration.batchJobQueue
        self.worker = worker
        retryStrategy = configuration.batchRetryStrategy
        timeout = configuration.batchTimeout
        command = BatchParameters.command
    }

    /// The container's variables: the worker function's, as deployed (`Fn::Sub` strings) or as
    /// `sortie dev` runs it. Deployed, `AWS_REGION` too: a container has no region of its own.
    public func environment(deployed: Bool) -> [String: String] {
        guard deployed else { return worker.environment ?? [:] }
        return worker.deployedEnvironment.merging(["AWS_REGION": "${AWS::Region}"]) { $1 }
    }
}
