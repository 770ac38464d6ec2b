import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import FunctionStartup
import LambdaRuntime
import WallTime
import S3Submitter
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension SubmitterError: LambdaFunctionError {}

/// The answer: what happened to each object of the event (or what the sweep or a redrive did).
struct SubmitterResponse: Encodable {
    var files: [FileOutcome] = []
    /// Records of the event that were not object creations.
    var ignored: [String] = []
    var sweep: SweepReport?
    var redrive: RedriveOutcome?
}

/// Turns S3 object-created events into chunk plans, chunk-processor invocations and Batch jobs.
struct SubmitterHandler: ConfiguredHandler {
    let setup: ChunkFunctionSetup<SubmitterConfiguration>

    init(configuration: ChunkFunctionConfiguration<SubmitterConfiguration>, client: Result<AWSClient, AWSError>) throws(ConfigurationError) {
        setup = try ChunkFunctionSetup(configuration, client: client)
    }

    func handle(_ event: SubmitterEvent, context: LambdaContext) throws -> SubmitterResponse {
        if event.sweep {
            let client = try setup.client.get()
            let report = FileSweep(submitter: try submitter(), catalog: setup.catalog, sqs: SQS(client: client), sns: SNS(client: client))
                .run(now: WallClock.unixMilliseconds)
            Lambda.writeLogLine(report.metrics(at: WallClock.unixMilliseconds()).rendered())
            for line in report.errors { context.logger.error("sweep: \(line)") }
            if !(report.failedChunks.isEmpty && report.retried.isEmpty) {
                context.logger.warning("sweep: failed \(report.failedChunks), files failed \(report.failedFiles), retried \(report.retried)")
            }
            return SubmitterResponse(sweep: report)
        }
        if let fileID = event.redrive {
            let outcome = try submitter().redrive(fileID: fileID, catalog: setup.catalog, now: WallClock.unixMilliseconds())
            context.logger.info("redrive \(fileID): \(outcome.status.rawValue) \(outcome.chunks)")
            return SubmitterResponse(redrive: outcome)
        }
        if let continuation = event.continuation {
            let outcome = try submitter().plan(
                fileID: continuation.fileID, generation: continuation.generation, feeds: setup.catalog,
                started: WallClock.unixMilliseconds(), deadline: context.deadlineMilliseconds)
            context.logger.info("\(continuation.fileID) generation \(continuation.generation): \(outcome.status.rawValue), \(outcome.records ?? 0) records, \(outcome.chunks ?? 0) chunks so far")
            announceIfFailed(outcome, context: context)
            return SubmitterResponse(files: [outcome], ignored: [])
        }
        var files: [FileOutcome] = []
        for object in event.objects {
            let feed: Feed
            switch setup.configuration.admit(object, catalog: setup.catalog) {
            case .feed(let admitted):
                feed = admitted
            case .skip(let reason):
                context.logger.info("skipping s3://\(object.bucket)/\(object.key): \(reason)")
                files.append(FileOutcome(bucket: object.bucket, key: object.key, status: .skipped, reason: reason))
                continue
            }
            let outcome = try submitter().submit(object, feed: feed, now: WallClock.unixMilliseconds(), deadline: context.deadlineMilliseconds)
            context.logger.info("s3://\(object.bucket)/\(object.key): \(outcome.status.rawValue) \(outcome.fileID ?? "")")
            announceIfFailed(outcome, context: context)
            files.append(outcome)
        }
        return SubmitterResponse(files: files, ignored: event.ignored)
    }

    /// A file whose planning failed is announced on the alert topic, as the sweep announces a file
    /// whose chunk failed; a lost notification is logged, the file stays FAILED.
    private func announceIfFailed(_ outcome: FileOutcome, context: LambdaContext) {
        guard outcome.status == .failed, let fileID = outcome.fileID, let topic = setup.configuration.alertTopic else { return }
        do {
            let client = try setup.client.get()
            guard let progress = try submitter().table.progress(fileID) else { return }
            try FileFailure(
                planningOf: progress.file, reason: outcome.reason ?? progress.failedReason ?? "unknown", chunksPlanned: progress.chunksPlanned,
                submitterFunction: setup.configuration.submitterFunction
            ).publish(sns: SNS(client: client), topic: topic, file: progress.file)
        } catch {
            context.logger.error("could not announce file \(fileID) on \(topic): \(error)")
        }
    }

    private func submitter() throws(AWSError) -> Submitter {
        let client = try setup.client.get()
        return Submitter(
            s3: S3(client: client), lambda: LambdaInvoke(client: client), batch: Batch(client: client),
            table: FileStore(dynamoDB: DynamoDB(client: client), tableName: setup.configuration.tableName), configuration: setup.configuration)
    }
}

Lambda.start(SubmitterHandler.self, name: "s3-submitter")
