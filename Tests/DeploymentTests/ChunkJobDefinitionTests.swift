import AWSServices
import ChunkStore
import Deployment
import S3Submitter
import SortieTestSupport
import TableSchema
import Testing

/// The chunk worker's Batch job definition, derived from the repository's definitions: the one
/// the template deploys and `sortie dev`'s Batch agent runs.
@Suite("the chunk worker's job definition")
struct ChunkJobDefinitionTests {
    @Test("the job definition is the template's: the worker's program and environment, the command from BatchParameters, the submitter's retry strategy and timeout")
    func definitionFromTheGenerator() throws {
        let definitions = try FunctionDefinition.load(folder: Repository.root.appendingPathComponent("functions"))
        let job = try #require(try ChunkJobDefinition(definitions: definitions))
        let submitter = try #require(definitions.first { $0.name == "s3-submitter" })
        let configuration = try SubmitterConfiguration.fromEnvironment(submitter.environment ?? [:])
        #expect(job.program == "chunk-processor" && job.worker.name == configuration.processorFunction)
        #expect(job.name == configuration.batchJobDefinition && job.queue == configuration.batchJobQueue)
        let timeout = try #require(configuration.batchTimeoutSeconds)
        // The attempt's limit comes with each job (SORTIE_ATTEMPT_SECONDS), not in the command.
        #expect(job.command == BatchParameters.command)
        #expect(job.command.first == "batch")
        #expect(job.retryStrategy == configuration.batchRetryStrategy && job.retryStrategy.attempts == configuration.batchAttempts)
        #expect(job.timeout == Batch.JobTimeout(attemptDurationSeconds: timeout))
        let local = job.environment(deployed: false)
        #expect(local == job.worker.environment)
        let deployed = job.environment(deployed: true)
        #expect(deployed["AWS_REGION"] == "${AWS::Region}")
        #expect(deployed["SORTIE_TABLE"] == "${JobTable}" && deployed["SORTIE_FEEDS"] == nil && deployed["SORTIE_FEEDS_URI"] != nil)
        #expect(deployed["MAX_RECORD_BYTES"] == local["MAX_RECORD_BYTES"])

        // A submitter whose worker has no definition is named.
        let orphan = definitions.filter { $0.name != "chunk-processor" }
        let error = try #require(throws: ChunkJobDefinition.DefinitionError.self) { try ChunkJobDefinition(definitions: orphan) }
        #expect(error.description == "s3-submitter: CHUNK_PROCESSOR_FUNCTION names 'chunk-processor', which has no definition")
        #expect(try ChunkJobDefinition(definitions: definitions.filter { $0.name != "s3-submitter" }) == nil)
    }
}
