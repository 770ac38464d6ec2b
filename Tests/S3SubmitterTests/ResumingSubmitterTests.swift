import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalRuntime
import S3Submitter
import SimulatedObjects
import SortieTestSupport
import Testing

/// The submitter planning a simulated object served by the S3 stand-in (the table on moto) over
/// several invocations of the real `s3-submitter` process.
@Suite("Planning over several invocations, against the S3 stand-in", .serialized)
struct ResumingSubmitterTests {
    static let key = "incoming/simulated.csv"

    struct Setup {
        let world: ChunkWorld
        let capture: InvokeCapture
        let s3: SimulatedS3
        let environment: [String: String]
        let event: Data

        func stop() async {
            await capture.stop()
            await s3.stop()
        }
    }

    static func setUp(_ object: SimulatedObject, chunkRecords: Int) async throws -> Setup {
        let world = try await blocking { try ChunkWorld.make() }
        let capture = try await InvokeCapture.start()
        let s3 = try await SimulatedS3.start()
        s3.put(bucket: world.bucket, key: key, object)
        let feeds = try world.feeds(fields: [FieldRule(name: "id", type: .integer, required: true)], destination: .s3(S3Location(bucket: world.outputBucket)))
        let environment = world.submitterEnvironment(feeds: feeds, capture: capture, extra: [
            "AWS_ENDPOINT_URL_S3": s3.endpoint, "READ_PART_BYTES": "262144", "PLAN_CHECKPOINT_BYTES": "1048576", "PLAN_MARGIN_SECONDS": "31",
            "CHUNK_MAX_RECORDS": String(chunkRecords),
        ])
        let event = world.notification(key: key, eTag: object.eTag, size: Int(object.size), sequencer: "0067A1B2C3D4E5F6AA")
        return Setup(world: world, capture: capture, s3: s3, environment: environment, event: event)
    }

    /// The continuations the submitter invoked itself with, in order.
    static func continuations(_ capture: InvokeCapture) -> [Data] {
        capture.invocations.filter { $0.function == "s3-submitter" }.map(\.payload)
    }

    static func outcome(_ result: InvocationOutcome, _ function: LocalFunction, sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        (jsonObject(responseBody(result, function, sourceLocation: sourceLocation))["files"] as? [[String: Any]])?.first ?? [:]
    }

    @Test("a continuation killed midway (chunks planned past its checkpoint) and redelivered twice: no chunk planned or invoked twice, counts and boundaries exact")
    func killedContinuation() async throws {
        let object = SimulatedObject(format: .csv, size: 6 << 20)
        let setup = try await Self.setUp(object, chunkRecords: 2_000)
        let world = setup.world
        // GETs from 4.5 MB on stall: the run under way stops there with its chunks so far written.
        setup.s3.hold(from: 4_500_000)
        let first = try await startFunction("s3-submitter", environment: setup.environment)

        // The S3 event, with less time than the margin (31 s; the time is ample on a loaded machine): one part planned, then handed to generation 1.
        let handedOver = Self.outcome(await first.invoke(InvocationRequest(payload: setup.event, timeout: .seconds(30))), first)
        #expect(handedOver["status"] as? String == "continued")
        let fileID = try #require(handedOver["fileId"] as? String)
        let generation1 = try #require(Self.continuations(setup.capture).first)
        #expect(try JSONDecoder().decode([String: PlanningContinuation].self, from: generation1)["sortieContinuation"] == PlanningContinuation(fileID: fileID, generation: 1))

        // Generation 1 (19 s before its margin) plans until the stalled GET; then its process is killed.
        let running = Task { await first.invoke(InvocationRequest(payload: generation1, timeout: .seconds(50))) }
        for _ in 0..<300 where setup.s3.heldGets == 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(setup.s3.heldGets > 0, "generation 1 reached the stall")
        // Killed once the run is idle at the stall: every chunk it wrote dispatched (a kill between a
        // chunk's invoke and its QUEUED mark would rightly invoke it again on redelivery).
        var settled = (count: -1, idleRounds: 0)
        for _ in 0..<200 where settled.idleRounds < 3 {
            try await Task.sleep(for: .milliseconds(100))
            let written = try await blocking { try world.jobTable.chunks(fileID: fileID, from: 0, to: 100_000) }
            let idle = written.count == settled.count && written.allSatisfy { $0.state != .planned }
            settled = (written.count, idle ? settled.idleRounds + 1 : 0)
        }
        #expect(settled.idleRounds >= 3, "generation 1 stopped at the stall with its chunks dispatched")
        let atKill = try #require(try await blocking { try world.jobTable.loadPlanning(fileID) })
        let checkpoint = try #require(atKill.checkpoint)
        let writtenAtKill = try await blocking { try world.jobTable.chunks(fileID: fileID, from: 0, to: 100_000) }
        #expect(atKill.sequence >= 4, "a checkpoint at least every MiB: \(atKill.sequence)")
        #expect(writtenAtKill.count > checkpoint.chunksPlanned, "chunks planned past the last checkpoint (\(checkpoint.chunksPlanned)) before the kill: \(writtenAtKill.count)")
        await first.stop()
        _ = await running.value
        setup.s3.hold(from: nil)

        // Redelivered (as Lambda retries it): busy while the dead run's lease lasts, then it goes on from the checkpoint.
        let second = try await startFunction("s3-submitter", environment: setup.environment)
        var finished: [String: Any] = [:]
        var busy = 0
        for _ in 0..<200 {
            let result = await second.invoke(InvocationRequest(payload: generation1, timeout: .seconds(60)))
            if case .functionError(_, let type, _) = result, type == "Sortie.FileBusy" {
                busy += 1
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            finished = Self.outcome(result, second)
            break
        }
        #expect(busy > 0, "the killed run's lease held the file for a while")
        #expect(finished["status"] as? String == "submitted")
        #expect(finished["records"] as? Int == Int(object.records))
        // Delivered once more: nothing left to do.
        let third = Self.outcome(await second.invoke(InvocationRequest(payload: generation1, timeout: .seconds(60))), second)
        #expect(third["status"] as? String == "duplicate")
        await second.stop()

        let stored = try #require(try await blocking { try world.jobTable.loadFile(fileID) })
        #expect(stored.file.state == .dispatched && stored.file.plan.records == object.records)
        expectBoundaries(stored.chunks.map(\.spec), match: object)
        #expect(stored.chunks.count == Int((object.records + 1_999) / 2_000))
        // Every chunk invoked exactly once, though a run died with chunks planned past its checkpoint.
        let tasks = try setup.capture.invocations.filter { $0.function == "chunk-processor" }.map { try JSONDecoder().decode(ChunkTask.self, from: $0.payload) }
        #expect(tasks.map(\.chunk.index) == Array(0..<stored.chunks.count))
        #expect(stored.chunks.allSatisfy { $0.state == .queued })
        #expect(Self.continuations(setup.capture).count == 1, "the redeliveries finished the plan themselves")
        // The file's items: its chunks, the file, its planning item (no checkpoint history).
        let items = try await blocking {
            try DynamoDB(client: world.client).query(.init(
                tableName: world.table, keyConditionExpression: "pk = :pk", expressionAttributeValues: [":pk": .s("FILE#\(fileID)")], consistentRead: true))
        }
        #expect(items.items.count == stored.chunks.count + 2)
        let done = try #require(try await blocking { try world.jobTable.loadPlanning(fileID) })
        #expect(done.phase == .done && done.checkpoint == nil)
        await setup.stop()
    }

    @Test("a continuation that finds the object replaced stops the file as FAILED with the reason; a gzip file is planned over many hand-overs exactly")
    func replacedObjectAndGzip() async throws {
        let object = SimulatedObject(format: .csv, size: 3 << 20)
        let setup = try await Self.setUp(object, chunkRecords: 2_000)
        let function = try await startFunction("s3-submitter", environment: setup.environment)
        let handedOver = Self.outcome(await function.invoke(InvocationRequest(payload: setup.event, timeout: .seconds(30))), function)
        #expect(handedOver["status"] as? String == "continued")
        let fileID = try #require(handedOver["fileId"] as? String)
        setup.s3.put(bucket: setup.world.bucket, key: Self.key, SimulatedObject(format: .csv, size: 3 << 20, version: 2))
        let next = try #require(Self.continuations(setup.capture).first)
        let failed = Self.outcome(await function.invoke(InvocationRequest(payload: next, timeout: .seconds(60))), function)
        #expect(failed["status"] as? String == "failed")
        #expect((failed["reason"] as? String)?.contains("eTag") == true)
        let item = try #require(try await blocking { try setup.world.jobTable.fileItem(fileID) })
        #expect(item.state == .failed)
        await function.stop()
        await setup.stop()

        // One-member gzip, every invocation short of time: each plans a part and hands over, from an access point.
        let packed = SimulatedObject(format: .csv, compression: .gzipOneMember, size: 4 << 20)
        let gzip = try await Self.setUp(packed, chunkRecords: 3_000)
        let planner = try await startFunction("s3-submitter", environment: gzip.environment)
        var last = Self.outcome(await planner.invoke(InvocationRequest(payload: gzip.event, timeout: .seconds(30))), planner)
        var handOvers = 0
        while last["status"] as? String == "continued", handOvers < 100 {
            handOvers += 1
            let payload = try #require(Self.continuations(gzip.capture).last)
            last = Self.outcome(await planner.invoke(InvocationRequest(payload: payload, timeout: .seconds(30))), planner)
        }
        #expect(last["status"] as? String == "submitted")
        #expect(handOvers >= 3, "\(handOvers) hand-overs")
        let gzipFile = last["fileId"] as? String ?? ""
        let stored = try #require(try await blocking { try gzip.world.jobTable.loadFile(gzipFile) })
        #expect(stored.file.plan.records == packed.records && stored.file.plan.compressed)
        expectBoundaries(stored.chunks.map(\.spec), match: packed)
        #expect(stored.chunks.allSatisfy { $0.spec.entry != nil })
        await planner.stop()
        await gzip.stop()
    }
}
