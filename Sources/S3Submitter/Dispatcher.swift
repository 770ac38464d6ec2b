import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The submitter could not hand a file over; `errorType` names the case for Lambda.
public struct SubmitterError: Error, Sendable, CustomStringConvertible {
    /// `Sortie.FileBusy` (another delivery holds the file: retry later), `Sortie.PayloadTooLarge`, `Sortie.InvokeFailed`.
    public var errorType: String
    public var description: String
}

/// Sends each planned chunk where its size says: small ones to the chunk processor (an
/// asynchronous Invoke), big ones to AWS Batch (one array job for several from the same file).
struct Dispatcher {
    let lambda: LambdaInvoke
    let batch: Batch
    let table: FileStore
    let configuration: SubmitterConfiguration

    /// Lambda's limit for an asynchronous payload.
    static let maxPayloadBytes = 262_144

    static func route(_ chunk: ChunkSpec, threshold: Int64) -> ChunkRoute {
        chunk.recordCount <= threshold ? .lambda : .batch
    }

    /// Dispatches the chunks still PLANNED; returns the Batch job ids submitted.
    func dispatch(_ file: FileRecord, feed: Feed, chunks: [ChunkRecord]) throws -> [String] {
        let pending = chunks.filter { $0.state == .planned }
        for chunk in pending where chunk.route == .lambda {
            try invoke(file, chunk.spec)
            try table.markDispatched(fileID: file.fileID, index: chunk.spec.index, state: .queued)
        }
        let big = pending.filter { $0.route == .batch }.map(\.spec)
        var jobs: [String] = []
        var start = 0
        while start < big.count {
            let group = Array(big[start..<min(start + configuration.batchArrayMax, big.count)])
            if group.count > 1 {
                try table.saveArray(fileID: file.fileID, chunks: group.map(\.index), expiresAt: file.expiresAt)
            }
            let jobID = try submit(file, group, attemptSeconds: configuration.attemptSeconds(feed))
            for (child, spec) in group.enumerated() {
                try table.markDispatched(
                    fileID: file.fileID, index: spec.index, state: .submitted, batchJobID: jobID, batchArrayIndex: group.count > 1 ? child : nil)
            }
            jobs.append(jobID)
            start += group.count
        }
        return jobs
    }

    private func invoke(_ file: FileRecord, _ spec: ChunkSpec) throws {
        let task = ChunkTask(
            fileID: file.fileID, feed: file.feed, object: file.object, columns: file.plan.columns, chunk: spec, expiresAt: file.expiresAt)
        let payload = try JSONEncoder().encode(task)
        guard payload.count <= Self.maxPayloadBytes else {
            throw SubmitterError(
                errorType: "Sortie.PayloadTooLarge", description: "\(task.chunkID): payload of \(payload.count) bytes exceeds Lambda's \(Self.maxPayloadBytes) for asynchronous invokes")
        }
        let answer = try lambda.invoke(functionName: configuration.processorFunction, payload: payload, invocationType: .event)
        guard answer.statusCode == 202 else {
            throw SubmitterError(errorType: "Sortie.InvokeFailed", description: "\(task.chunkID): Invoke answered HTTP \(answer.statusCode), not 202")
        }
    }

    /// One job per group: a single job for one chunk, an array job (child i = entry i of the
    /// array's list in the job table) for several. Returns the job id.
    /// Each attempt is limited to `attemptSeconds` (Batch kills it then), and the worker is told
    /// (`SORTIE_ATTEMPT_SECONDS`) so it stops cleanly before.
    private func submit(_ file: FileRecord, _ group: [ChunkSpec], attemptSeconds: Int) throws(AWSError) -> String {
        let first = ChunkTask.chunkID(fileID: file.fileID, index: group[0].index)
        let input = Batch.SubmitJobInput(
            jobName: group.count == 1 ? "sortie-\(first)" : "sortie-\(first)-x\(group.count)",
            jobQueue: configuration.batchJobQueue, jobDefinition: configuration.batchJobDefinition,
            parameters: Self.parameters(file, group, table: table.tableName),
            arrayProperties: group.count > 1 ? Batch.ArrayProperties(size: group.count) : nil,
            containerOverrides: Batch.ContainerOverrides(environment: [.init(name: BatchAttempt.timeoutVariable, value: String(attemptSeconds))]),
            retryStrategy: configuration.batchRetryStrategy, timeout: Batch.JobTimeout(attemptDurationSeconds: attemptSeconds),
            tags: ["sortie:file": file.fileID, "sortie:feed": file.feed], propagateTags: true)
        return try batch.submitJob(input).jobId
    }

    /// The job's parameters (`BatchParameters`): the file's identity and the group's first chunk,
    /// the same size however many chunks the group has.
    static func parameters(_ file: FileRecord, _ group: [ChunkSpec], table: String) -> [String: String] {
        BatchParameters(file: file, first: group[0].index, table: table).values
    }
}
