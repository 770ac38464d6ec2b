import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import EmbeddedMetrics
import FunctionStartup
import RecordFormats
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `chunk-processor batch --fileId … --chunkId … [--timeout SECONDS]`: one big chunk in an AWS
/// Batch container, by the same `ChunkProcessor.process` as in Lambda.
///
/// The arguments are the job's parameters (`BatchParameters`, each as `--name value`, which the
/// job definition's command fills in with `Ref::name`); a single job runs chunk `chunkId`, an
/// array child entry `AWS_BATCH_JOB_ARRAY_INDEX` of the array's list in the job table (kept
/// under its first chunk, `chunkId`). The chunk's item in the job table is the source of truth:
/// the file's identity in the parameters must agree with it. The claim's owner is
/// `batch:<AWS_BATCH_JOB_ID>`, so a retried attempt takes back the claim of the attempt that died.
/// There is no deadline but `--timeout` or `SORTIE_ATTEMPT_SECONDS` (the job's attempt duration,
/// from the start, which the submitter sets) or else the file's expiry in the table.
///
/// Exit status: 0 done, or done before (a repeated run); 2 the input itself is bad (parameters,
/// the object gone or replaced, bytes that are not what was planned): the submitter's retry
/// strategy ends the job; 1 anything else, which a retry may cure.
public enum BatchWorker {
    public enum Exit: Int32, Sendable {
        case success = 0, retryable = 1, badInput = 2
    }

    /// `emit` writes a log line as-is (stderr: the EMF line, also sent with PutMetricData, and one line on how it ended); `output`
    /// gets the outcome's JSON (stdout), as Lambda's response would be.
    public static func run(
        arguments: [String], environment: [String: String], clock: WallClock,
        emit: (String) -> Void, output: (String) -> Void
    ) -> Exit {
        let started = clock.nowMilliseconds()
        let jobID = environment["AWS_BATCH_JOB_ID"].flatMap { $0.isEmpty ? nil : $0 }
        var subject = jobID.map { "job \($0)" } ?? "chunk-processor batch"
        func end(_ exit: Exit, _ what: String) -> Exit {
            let verdict = switch exit {
            case .success: "done"
            case .retryable: "failed (exit 1, retryable)"
            case .badInput: "bad input (exit 2, not retried)"
            }
            emit("\(subject): \(verdict): \(what)")
            return exit
        }
        guard environment["AWS_LAMBDA_RUNTIME_API"] == nil else {
            return end(.badInput, "batch mode runs outside Lambda, but AWS_LAMBDA_RUNTIME_API is set")
        }

        let parameters: BatchParameters
        let named: Int
        let child: Int?
        let timeout: Int64?
        do {
            let parsed = try parse(arguments)
            timeout = try parsed.timeout ?? attemptSeconds(environment)
            parameters = try BatchParameters(values: parsed.values)
            child = try arrayIndex(environment)
            if child == nil { subject = parameters.values["chunkId"].map { chunk in jobID.map { "\(chunk) (job \($0))" } ?? chunk } ?? subject }
            named = try parameters.chunkIndex()
        } catch {
            return end(.badInput, "\(error)")
        }

        var settingsEnvironment = environment
        if (settingsEnvironment["SORTIE_TABLE"] ?? "").isEmpty { settingsEnvironment["SORTIE_TABLE"] = parameters.table }
        do {
            let configuration = try ChunkFunctionConfiguration<ProcessorConfiguration>.fromEnvironment(settingsEnvironment)
            let processorConfiguration = configuration.function
            guard processorConfiguration.tableName == parameters.table else {
                return end(.badInput, "parameter table is '\(parameters.table)' but SORTIE_TABLE is '\(processorConfiguration.tableName)'")
            }
            let setup = try ChunkFunctionSetup(
                configuration, client: Result { () throws(AWSError) in try AWSClient.fromEnvironment(AWSEnvironment(settingsEnvironment)) })
            let client = try setup.client.get()
            let table = FileStore(dynamoDB: DynamoDB(client: client), tableName: processorConfiguration.tableName)
            var index = named
            if let child {
                guard let listed = try table.arrayChunk(fileID: parameters.fileID, first: named, child: child) else {
                    return end(.badInput, "the job table \(processorConfiguration.tableName) lists no child \(child) of an array job from chunk \(named) of file \(parameters.fileID)")
                }
                index = listed
                let chunkID = ChunkTask.chunkID(fileID: parameters.fileID, index: index)
                subject = jobID.map { "\(chunkID) (job \($0))" } ?? chunkID
            }
            guard let (file, chunk) = try table.loadChunk(fileID: parameters.fileID, index: index) else {
                return end(.badInput, "the job table \(processorConfiguration.tableName) has no chunk \(index) of file \(parameters.fileID)")
            }
            try parameters.check(file: file, table: processorConfiguration.tableName)
            let task = ChunkTask(
                fileID: file.fileID, feed: file.feed, object: file.object, columns: file.plan.columns, chunk: chunk.spec, expiresAt: file.expiresAt)
            let deadline = timeout.map { started + $0 * 1000 } ?? file.expiresAt * 1000
            let processor = ChunkProcessor(
                s3: S3(client: client), sqs: SQS(client: client), table: table, catalog: setup.catalog, configuration: processorConfiguration,
                retry: client.configuration.retry, kafka: KafkaCredentials(client: client, environment: environment))
            let owner = "batch:" + (jobID ?? "pid-\(ProcessInfo.processInfo.processIdentifier)")
            let cloudWatch = CloudWatch(client: client)
            let outcome = try processor.process(task, owner: owner, reclaimsOwn: jobID != nil, clock: clock, deadlineMilliseconds: deadline) { line in
                emit(line.rendered())
                // Batch's log driver does not extract the line: the same values go to CloudWatch. A
                // metric lost is said in the log, never the chunk's failure.
                do throws(AWSError) {
                    try cloudWatch.putMetricData(namespace: MetricLine.namespace, line.datapoints.map { point in
                        CloudWatch.Datum(
                            name: point.metric.rawValue, dimensions: point.dimensions.map { CloudWatch.Dimension(name: $0.name, value: $0.value) },
                            value: Double(point.value), unit: point.metric.unit)
                    })
                } catch {
                    emit("\(subject): metrics not sent to CloudWatch: \(error)")
                }
            }
            switch outcome.status {
            case .done:
                if let json = try? JSONEncoder().encode(outcome) { output(String(decoding: json, as: UTF8.self)) }
                return end(.success, "\(outcome.records ?? 0) records, \(outcome.valid ?? 0) valid, \(outcome.rejected ?? 0) rejected, \(outcome.delivered ?? 0) delivered")
            case .duplicate:
                return end(.success, "already done by an earlier run: nothing to do")
            case .busy:
                return end(.retryable, "another worker holds the chunk's claim")
            case .expired:
                return end(.badInput, "the file's job-table items expired at \(file.expiresAt) (seconds since the epoch)")
            }
        } catch {
            return end(exit(for: error), "\(error)")
        }
    }

    public static let usage = """
        Usage: chunk-processor                  a Lambda function (provided.al2023): one chunk per invocation
               chunk-processor batch --fileId ID --bucket B --key K --eTag E --feed F --table T
                   --chunkId C --byteRange A-B --recordRange A-B --startLine N [--gzipEntry X:Y:Z] [--timeout SECONDS]
                                                one big chunk in an AWS Batch container (entry AWS_BATCH_JOB_ARRAY_INDEX
                                                of comma-separated lists); exit 0 done, 1 retryable, 2 bad input
               chunk-processor --version | --help
        """

    /// `--help` or `-h`, alone or after `batch`.
    public static func asksForHelp(_ arguments: [String]) -> Bool {
        let rest = arguments.first == "batch" ? Array(arguments.dropFirst()) : arguments
        return rest.first == "--help" || rest.first == "-h"
    }

    /// The job's parameters from `--name value` pairs, and the worker's own `--timeout SECONDS`.
    static func parse(_ arguments: [String]) throws(BatchParameterError) -> (values: [String: String], timeout: Int64?) {
        var values: [String: String] = [:]
        var timeout: Int64?
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--"), flag.count > 2, let value = rest.popFirst() else {
                throw BatchParameterError("expected --name value pairs, got '\(flag)'\(rest.isEmpty ? " at the end" : "")")
            }
            let name = String(flag.dropFirst(2))
            if name == "timeout" {
                guard let seconds = Int64(value), seconds > 0 else { throw BatchParameterError("--timeout takes a number of seconds, not '\(value)'") }
                timeout = seconds
            } else if values.updateValue(value, forKey: name) != nil {
                throw BatchParameterError("parameter \(name) is given twice")
            }
        }
        return (values, timeout)
    }

    /// The attempt's limit the submitter set (`BatchAttempt.timeoutVariable`), when `--timeout` gives none.
    static func attemptSeconds(_ environment: [String: String]) throws(BatchParameterError) -> Int64? {
        guard let text = environment[BatchAttempt.timeoutVariable], !text.isEmpty else { return nil }
        guard let seconds = Int64(text), seconds > 0 else {
            throw BatchParameterError("\(BatchAttempt.timeoutVariable) is '\(text)', not a number of seconds")
        }
        return seconds
    }

    /// The child's index: `AWS_BATCH_JOB_ARRAY_INDEX`, nil for a job that is not an array.
    static func arrayIndex(_ environment: [String: String]) throws(BatchParameterError) -> Int? {
        guard let text = environment["AWS_BATCH_JOB_ARRAY_INDEX"], !text.isEmpty else { return nil }
        guard let index = Int(text), index >= 0 else { throw BatchParameterError("AWS_BATCH_JOB_ARRAY_INDEX is '\(text)', not an index") }
        return index
    }

    /// Whether a failure lies in the input (no retry changes it) or may pass.
    static func exit(for error: any Error) -> Exit {
        switch error {
        case let failure as ChunkError:
            switch failure.errorType {
            case "Sortie.InvalidChunkTask", "Sortie.ChunkNotPlanned": return .badInput
            // Without a cause it is the processor's own finding: the bytes do not hold the planned records.
            case "Sortie.ChunkFailed": return failure.cause.map(exit(for:)) ?? .badInput
            default: return .retryable
            }
        case let failure as AWSError:
            // The object went, or was replaced since it was planned (every read carries If-Match).
            return ["NoSuchKey", "NoSuchBucket", "PreconditionFailed"].contains(failure.code) ? .badInput : .retryable
        case is BatchParameterError, is GzipError, is RecordTooLong, is ChunkReadError, is SchemaError, is FeedError:
            return .badInput
        default:
            return .retryable
        }
    }
}
