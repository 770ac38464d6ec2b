import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalRuntime
import RecordFormats
import S3Submitter
import SortieTestSupport
import Testing

@Suite("A chunk that fails for good: FAILED file, one notification, redrive")
struct FileFailureTests {
    static let scheduled = Data(#"{"id":"sweep-1","detail-type":"Scheduled Event","source":"aws.events","time":"2026-12-05T10:00:00Z","resources":[],"detail":{}}"#.utf8)

    /// AWS's invocation record for a chunk payload Lambda gave up on.
    static func onFailure(_ payload: Data) throws -> String {
        let record: [String: Any] = [
            "version": "1.0", "timestamp": "2026-12-05T10:00:00.000Z",
            "requestContext": [
                "requestId": "e4b46cbf-b738-4d6d-8880-a18cdf61200e", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:chunk-processor:$LATEST",
                "condition": "RetriesExhausted", "approximateInvokeCount": 3,
            ] as [String: Any],
            "requestPayload": try JSONSerialization.jsonObject(with: payload),
            "responseContext": ["statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"] as [String: Any],
            "responsePayload": ["errorType": "Sortie.ChunkFailed", "errorMessage": "chunk failed on purpose"],
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
    }

    @Test("the OnFailure record fails the chunk and its file with one SNS notice (a repeated record adds none); redrive re-runs only that chunk and the file completes; a second redrive does nothing")
    func failAndRedrive() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: BatchWorkerTests.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let sqs = SQS(client: world.client), sns = SNS(client: world.client)
        let (deadLetters, notices, topic) = try await blocking { () throws -> (String, String, String) in
            let deadLetters = try sqs.createQueue(name: unique("chunk-dlq"))
            let notices = try sqs.createQueue(name: unique("notices"))
            let topic = try sns.createTopic(name: unique("alerts"))
            let arn = try #require(try sqs.queueAttributes(queueURL: notices, names: ["QueueArn"])["QueueArn"])
            try sns.subscribeQueue(topicARN: topic, queueARN: arn)
            return (deadLetters, notices, topic)
        }
        let body = Array(("id,name,amount\n" + BatchWorkerTests.lines(0..<200)).utf8)
        let key = "incoming/orders-\(unique("f")).csv"
        let eTag = try await blocking { try world.upload(key, body) }
        let capture = try await InvokeCapture.start()
        let submitter = try await startFunction("s3-submitter", environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: [
            "CHUNK_DEAD_LETTER_QUEUE_URL": deadLetters, "SORTIE_ALERT_TOPIC": topic,
        ]))
        func invoke(_ payload: Data) async -> [String: Any] {
            jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: payload, timeout: .seconds(60))), submitter))
        }
        let submitted = await invoke(world.notification(key: key, eTag: eTag, size: body.count, sequencer: "0A"))
        let fileID = try #require((submitted["files"] as? [[String: Any]])?.first?["fileId"] as? String)
        let payload = try #require(capture.invocations.first?.payload)

        // Lambda gave up on the chunk: its record lands in the dead-letter queue, twice (a duplicate).
        for _ in 0..<2 { _ = try await blocking { try sqs.sendMessage(queueURL: deadLetters, body: try Self.onFailure(payload)) } }
        let first = try #require(await invoke(Self.scheduled)["sweep"] as? [String: Any])
        #expect(first["failedFiles"] as? [String] == [fileID])
        #expect(first["deadLetters"] as? Int == 2)
        let progress = try #require(try await blocking { try world.jobTable.progress(fileID) })
        let chunks = try await blocking { try world.jobTable.chunks(fileID: fileID, in: nil) }
        #expect(progress.file.state == .failed)
        #expect(progress.failedChunk == 0)
        #expect(progress.chunksFailed == 1, "the duplicate record counted once")
        #expect(chunks.first?.chunk.state == .failed)
        #expect(chunks.first?.chunk.reason?.contains("chunk failed on purpose") == true)
        let second = try #require(await invoke(Self.scheduled)["sweep"] as? [String: Any])
        #expect((second["failedFiles"] as? [String])?.isEmpty == true)

        let received = try await blocking { try sqs.receiveMessages(queueURL: notices, maxMessages: 10, waitSeconds: 1) }
        #expect(received.count == 1)
        let notice = try #require(received.first.flatMap { jsonObject(Data($0.body.utf8))["Message"] as? String })
        #expect(notice.contains("\(fileID)-c00000"))
        #expect(notice.contains("chunk failed on purpose"))
        #expect(notice.contains("0 of 1 chunks done"))
        #expect(notice.contains("Rejects: s3://\(world.outputBucket)/rejects/\(fileID)/"))
        #expect(notice.contains("sortie redrive \(fileID)"))

        // Fixed: the redrive sends the failed chunk again, and only it.
        let redrive = Data(#"{"redrive":"\#(fileID)"}"#.utf8)
        let redriven = try #require(await invoke(redrive)["redrive"] as? [String: Any])
        #expect(redriven["status"] as? String == "redriven")
        #expect(redriven["chunks"] as? [Int] == [0])
        #expect(capture.invocations.count == 2)
        let again = try #require(await invoke(redrive)["redrive"] as? [String: Any])
        #expect(again["status"] as? String == "nothing")
        #expect(capture.invocations.count == 2)
        await submitter.stop()
        await capture.stop()
        // Each sweep's metrics line in the submitter's own log, valid by the EMF specification's rules.
        let sweeps = try EmbeddedMetricFormat.documents(in: submitter.capturedLog)
        #expect(sweeps.count == 2 && sweeps.allSatisfy { $0.values("ActiveFiles") != nil && $0.values("OldestActiveFileAge") != nil })

        let processor = try await startFunction("chunk-processor", environment: world.processorEnvironment(feeds: feeds))
        let outcome = jsonObject(responseBody(await processor.invoke(InvocationRequest(payload: capture.invocations[1].payload, timeout: .seconds(60))), processor))
        await processor.stop()
        #expect(outcome["status"] as? String == "done")
        #expect(try EmbeddedMetricFormat.documents(in: processor.capturedLog).map { $0.string("Status") } == ["done"])
        let file = try #require(try await blocking { try world.jobTable.progress(fileID) })
        #expect(file.file.state == .complete && file.chunksDone == 1 && file.chunksFailed == 0)
    }

    @Test("a file whose planning fails (a truncated gzip stream) is FAILED with the reason and announced once on the alert topic")
    func planningFailureAnnounced() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: BatchWorkerTests.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let sqs = SQS(client: world.client), sns = SNS(client: world.client)
        let (notices, topic) = try await blocking { () throws -> (String, String) in
            let notices = try sqs.createQueue(name: unique("notices"))
            let topic = try sns.createTopic(name: unique("alerts"))
            let arn = try #require(try sqs.queueAttributes(queueURL: notices, names: ["QueueArn"])["QueueArn"])
            try sns.subscribeQueue(topicARN: topic, queueARN: arn)
            return (notices, topic)
        }
        let whole = try Gzip.compress(Array(("id,name,amount\n" + BatchWorkerTests.lines(0..<5000)).utf8))
        let body = Array(whole.prefix(whole.count / 2))
        let key = "incoming/orders-\(unique("t")).csv.gz"
        let eTag = try await blocking { try world.upload(key, body) }
        let capture = try await InvokeCapture.start()
        let submitter = try await startFunction("s3-submitter", environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: ["SORTIE_ALERT_TOPIC": topic]))
        let answer = jsonObject(responseBody(await submitter.invoke(InvocationRequest(payload: world.notification(key: key, eTag: eTag, size: body.count, sequencer: "0B"), timeout: .seconds(60))), submitter))
        await submitter.stop()
        await capture.stop()
        let file = try #require((answer["files"] as? [[String: Any]])?.first)
        #expect(file["status"] as? String == "failed", "\(answer)")
        let fileID = try #require(file["fileId"] as? String)
        #expect(try await blocking { try world.jobTable.progress(fileID) }?.file.state == .failed)
        let received = try await blocking { try sqs.receiveMessages(queueURL: notices, maxMessages: 10, waitSeconds: 1) }
        #expect(received.count == 1)
        let notice = try #require(received.first.flatMap { jsonObject(Data($0.body.utf8))["Message"] as? String })
        #expect(notice.contains("file \(fileID)") && notice.contains("FAILED while it was planned") && notice.lowercased().contains("truncated"), "\(notice)")
    }

    @Test("a chunk stuck past its deadline is sent again while attempts are left, then FAILED")
    func deadlines() {
        let spec = ChunkSpec(index: 2, firstRecord: 0, recordCount: 10, start: 0, end: 100, startLine: 2)
        var running = ChunkRecord(fileID: "f", spec: spec, route: .lambda, state: .running)
        var attempts = ChunkAttempts(attempts: 1, startedAt: 1_000, leaseUntil: 901_000)
        func verdict(_ now: Int64, batchJob: ChunkDeadline.BatchJob? = nil, max: Int = 3) -> ChunkDeadline.Verdict {
            ChunkDeadline.verdict(running, attempts, batchJob: batchJob, limitSeconds: 900, maxAttempts: max, graceSeconds: 60, now: now)
        }
        #expect(verdict(901_000 + 59_000) == .wait)
        #expect(verdict(901_000 + 61_000) == .retry)
        attempts.attempts = 3
        guard case .fail(let reason) = verdict(901_000 + 61_000) else { Issue.record("not failed"); return }
        #expect(reason.contains("did not finish within its 900s limit"))
        // Batch's own view comes first: FAILED is final, an active job is waited for.
        running.route = .batch
        running.batchJobID = "job-1"
        attempts.attempts = 1
        #expect(verdict(2_000, batchJob: .init(status: "FAILED", reason: "Job attempt duration exceeded timeout")) == .fail("Batch job job-1 FAILED: Job attempt duration exceeded timeout"))
        #expect(verdict(99_000_000, batchJob: .init(status: "RUNNABLE", reason: nil)) == .wait)
        // A queued chunk that never starts is retried by the sweep at most `maxAttempts` times.
        running.state = .queued
        running.route = .lambda
        attempts = ChunkAttempts(attempts: 0, retries: 3, dispatchedAt: 0)
        #expect(verdict(2_000_000) != .retry)
    }
}
