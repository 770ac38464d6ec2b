import AWSCore
import AWSServices
import ChunkPlanning
import ChunkStore
import ChunkTestSupport
import Foundation
import LocalRuntime
import RecordFormats
import SortieTestSupport
import Testing
import WallTime

/// `chunk-processor batch`: big chunks the real submitter sent to Batch, run as Batch runs the job's containers, on moto.
@Suite("The Batch worker against moto", .serialized)
struct BatchWorkerTests {
    static let fields = ChunkEdgeCaseTests.fields

    /// `id,name,amount` lines from `first`; every hundredth amount is not a number (a reject).
    static func lines(_ ids: Range<Int>) -> String {
        ids.map { "\($0),name \($0),\($0 % 100 == 99 ? "x" : "\($0).5")\n" }.joined()
    }

    /// Uploads `body` and hands its event to the real submitter; returns the file id and its one Batch job.
    func submit(
        _ world: ChunkWorld, key: String, body: [UInt8], feeds: String, limits: [String: String], timeout: Duration = .seconds(60)
    ) async throws -> (fileID: String, jobID: String) {
        let capture = try await InvokeCapture.start()
        let eTag = try await blocking { try world.upload(key, body) }
        let submitter = try await startFunction("s3-submitter", environment: world.submitterEnvironment(feeds: feeds, capture: capture, extra: limits))
        let answer = jsonObject(responseBody(await submitter.invoke(InvocationRequest(
            payload: world.notification(key: key, eTag: eTag, size: body.count, sequencer: "0A"), timeout: timeout)), submitter))
        await submitter.stop()
        await capture.stop()
        let outcome = try #require((answer["files"] as? [[String: Any]])?.first)
        let jobs = try #require(outcome["batchJobs"] as? [String])
        #expect(jobs.count == 1)
        return (try #require(outcome["fileId"] as? String), try #require(jobs.first))
    }

    func chunk(_ world: ChunkWorld, _ fileID: String, _ index: Int) async throws -> ChunkRecord {
        try #require(try await blocking { try world.jobTable.loadChunk(fileID: fileID, index: index)?.chunk })
    }

    /// CloudWatch's sum of a Sortie metric for a feed since `since` (epoch milliseconds), by GetMetricStatistics.
    static func sum(_ world: ChunkWorld, _ metric: String, feed: String, since: Int64) throws -> Double {
        var p = QueryParameters()
        p.add("Namespace", "Sortie")
        p.add("MetricName", metric)
        p.add("Dimensions.member.1.Name", "Feed")
        p.add("Dimensions.member.1.Value", feed)
        p.add("StartTime", WallClock.iso8601(milliseconds: since))
        p.add("EndTime", WallClock.iso8601(milliseconds: WallClock.unixMilliseconds() + 60_000))
        p.add("Period", 60)
        p.add("Statistics.member.1", "Sum")
        let root = try QueryProtocolClient(client: world.client, service: .cloudWatch, version: "2010-08-01").call("GetMetricStatistics", p)
        let points = root["GetMetricStatisticsResult", "Datapoints"]?.children("member") ?? []
        return points.compactMap { $0.string("Sum").flatMap(Double.init) }.reduce(0, +)
    }

    func output(_ world: ChunkWorld, _ key: String) async throws -> [String] {
        let body = try await blocking { try world.s3.getObject(bucket: world.outputBucket, key: key).body }
        return String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("an array job's children each process their chunk, the file completes; a second run does nothing; a retried attempt takes its dead attempt's claim back, another owner's claim is left alone")
    func arrayJob() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let body = Array(("id,name,amount\n" + Self.lines(0..<3000)).utf8)
        let (fileID, jobID) = try await submit(
            world, key: "incoming/big.csv", body: body, feeds: feeds, limits: ["CHUNK_MAX_RECORDS": "1500", "BATCH_PROCESSING_THRESHOLD": "1000"])
        let planned = try await chunk(world, fileID, 1)
        #expect(planned.route == .batch && planned.state == .submitted && planned.batchArrayIndex == 1)

        // Child 1's first attempt died holding the claim; another job holds nothing of it.
        let lease = Int64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let claim = try await blocking {
            try world.jobTable.claimChunk(fileID: fileID, index: 1, owner: "batch:\(jobID):1", now: lease - 3_600_000, leaseUntil: lease)
        }
        #expect(claim == .claimed(attempt: 1))
        let stranger = try await blocking { try world.runBatchContainer(jobID, index: 1, feeds: feeds, environment: ["AWS_BATCH_JOB_ID": "another-job"]) }
        #expect(stranger.status == 1, "busy under another owner's lease: retryable\n\(stranger.stderr)")
        #expect(stranger.stderr.contains("\(fileID)-c00001") && stranger.stderr.contains("another worker holds the chunk's claim"))

        for index in [1, 0] {
            let run = try await blocking { try world.runBatchContainer(jobID, index: index, feeds: feeds) }
            #expect(run.status == 0, "\(run.stderr)")
            let outcome = jsonObject(Data(run.stdout.utf8))
            #expect(outcome["status"] as? String == "done")
            #expect(outcome["records"] as? Int == 1500)
            #expect(outcome["rejected"] as? Int == 15)
            #expect(outcome["fileComplete"] as? Bool == (index == 0))
            let metrics = try EmbeddedMetricFormat.documents(in: run.stderr)
            #expect(metrics.count == 1 && metrics.first?.values("RecordsRead") == [1500] && metrics.first?.string("Status") == "done")
            #expect(metrics.first?.values("RecordsRejected") == [15] && metrics.first?.values("ChunksDone") == [1])
            #expect(!run.stderr.contains("metrics not sent"), "\(run.stderr)")

            let chunkID = ChunkTask.chunkID(fileID: fileID, index: index)
            let delivered = try await output(world, "out/\(fileID)/\(chunkID).jsonl")
            #expect(delivered.count == 1485)
            #expect(delivered.first?.hasPrefix(#"{"id":\#(index * 1500),"#) == true)
            #expect(delivered.last?.hasPrefix(#"{"id":\#(index * 1500 + 1498),"#) == true)
            let rejects = try await output(world, "rejects/\(fileID)/\(chunkID).rejects.jsonl")
            #expect(rejects.count == 15)
            #expect(rejects.first?.hasPrefix(#"{"line":\#(index * 1500 + 101),"record":\#(index * 1500 + 100),"#) == true, "\(rejects.first ?? "")")
            let record = try await chunk(world, fileID, index)
            #expect(record.state == .done)
            #expect(record.counts == ChunkCounts(read: 1500, valid: 1485, rejected: 15, delivered: 1485))
        }
        let file = try await blocking { try TableItem.file(world, fileID) }
        #expect(file["state"]?.string == "COMPLETE")
        #expect(file["recordsDelivered"]?.int == 2970 && file["recordsRejected"]?.int == 30)
        // Batch's log driver does not extract the EMF line: the workers sent the same values to CloudWatch
        // (moto is shared, so other tests' chunks of feed `orders` may add to the sums).
        let delivered = try await blocking { try Self.sum(world, "RecordsDelivered", feed: "orders", since: lease - 3_600_000 - 60_000) }
        let rejected = try await blocking { try Self.sum(world, "RecordsRejected", feed: "orders", since: lease - 3_600_000 - 60_000) }
        #expect(delivered >= 2970 && rejected >= 30, "\(delivered) delivered, \(rejected) rejected")

        // Batch runs a job again (a retry after success, a duplicate): nothing is done or counted twice.
        let again = try await blocking { try world.runBatchContainer(jobID, index: 0, feeds: feeds) }
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("\(fileID)-c00000 (job \(jobID):0): done: already done by an earlier run"))
        #expect(!again.stderr.contains(#"{"_aws""#))
        let after = try await blocking { try TableItem.file(world, fileID) }
        #expect(after["recordsDelivered"]?.int == 2970 && after["chunksDone"]?.int == 2)
    }

    @Test("10,000 chunks in one array job: the filled-in command and the parameters stay within ECS's 8,192 characters of overrides; the last child finds its chunk in the table")
    func tenThousandChildren() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let body = Array(("id,name,amount\n" + Self.lines(0..<20_000)).utf8)
        let (fileID, jobID) = try await submit(
            world, key: "incoming/many-chunks-\(String(repeating: "k", count: 200)).csv", body: body, feeds: feeds,
            limits: ["CHUNK_MAX_RECORDS": "2", "BATCH_PROCESSING_THRESHOLD": "1", "BATCH_ARRAY_MAX": "10000", "AWS_MAX_ATTEMPTS": "5"], timeout: .seconds(900))
        let job = try #require(try await blocking { try Batch(client: world.client).describeJobs([jobID]).first })
        #expect(job.arrayProperties?.size == 10_000)
        let parameters = try #require(job.parameters)
        let command = Batch.resolve(command: job.container?.command ?? [], parameters: parameters)
        // ECS counts the overrides' JSON; the command is the whole of ours.
        let overrides = try JSONEncoder().encode(["containerOverrides": [["command": command]]])
        #expect(overrides.count < BatchParameters.maxOverrideCharacters, "the filled-in command is \(overrides.count) characters")
        #expect(try JSONEncoder().encode(parameters).count < BatchParameters.maxOverrideCharacters)
        #expect(parameters["chunkId"] == "\(fileID)-c00000")

        let last = try await blocking { try world.runBatchContainer(jobID, index: 9_999, feeds: feeds) }
        #expect(last.status == 0, "\(last.stderr)")
        #expect(last.stderr.contains("\(fileID)-c09999 (job \(jobID):9999): done: 2 records, 1 valid, 1 rejected"), "\(last.stderr)")
        let record = try await chunk(world, fileID, 9_999)
        #expect(record.state == .done && record.batchArrayIndex == 9_999)
        let outside = try await blocking { try world.runBatchContainer(jobID, index: 10_000, feeds: feeds) }
        #expect(outside.status == 2 && outside.stderr.contains("lists no child 10000 of an array job from chunk 0"), "\(outside.stderr)")
    }

    @Test("bad input exits 2 with one line naming the chunk and what is wrong, and touches nothing; an object replaced since planning fails the chunk with 2")
    func badInput() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        let key = "incoming/single.csv"
        let (fileID, jobID) = try await submit(
            world, key: key, body: Array(("id,name,amount\n" + Self.lines(0..<1200)).utf8), feeds: feeds, limits: ["BATCH_PROCESSING_THRESHOLD": "1000"])
        let chunkID = "\(fileID)-c00000"

        let jobSubject = "job \(jobID)", chunkSubject = "\(chunkID) (job \(jobID))"
        let cases: [(changing: [String: String], index: Int?, subject: String, message: String)] = [
            (["key": "incoming/other.csv"], nil, chunkSubject, "key is 'incoming/other.csv', the job table says '\(key)'"),
            (["chunkId": "\(fileID)-c00007"], nil, "\(fileID)-c00007 (job \(jobID))", "the job table \(world.table) has no chunk 7 of file \(fileID)"),
            (["chunkId": "someone-else-c00000"], nil, "someone-else-c00000 (job \(jobID))", "chunkId 'someone-else-c00000' is not a chunk of file \(fileID)"),
            (["eTag": "0123"], nil, chunkSubject, "eTag is '0123'"),
            (["feed": "Ref::feed"], nil, jobSubject, "parameter feed was not substituted"),
            ([:], 1, jobSubject, "the job table \(world.table) lists no child 1 of an array job from chunk 0 of file \(fileID)"),
        ]
        for (changing, index, subject, message) in cases {
            let run = try await blocking {
                try world.runBatchContainer(jobID, index: index, feeds: feeds, changing: changing, environment: ["AWS_BATCH_JOB_ID": jobID])
            }
            #expect(run.status == 2, "\(changing): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("\(subject): bad input (exit 2, not retried): ") && lines[0].contains(message), "\(run.stderr)")
        }
        let untouched = try await chunk(world, fileID, 0)
        #expect(untouched.state == .submitted)

        // A new upload of the key since the plan: every read carries If-Match, so no retry can succeed.
        _ = try await blocking { try world.upload(key, Array(("id,name,amount\n" + Self.lines(5000..<6200)).utf8)) }
        let replaced = try await blocking { try world.runBatchContainer(jobID, index: nil, feeds: feeds) }
        #expect(replaced.status == 2, "\(replaced.stderr)")
        #expect(replaced.stderr.contains("\(chunkID) (job \(jobID)): bad input") && replaced.stderr.contains("PreconditionFailed"), "\(replaced.stderr)")
        #expect(try await chunk(world, fileID, 0).state == .failed)
    }

    @Test("a gzip file of several members: a Batch chunk that starts in a later member is entered at that member")
    func gzipMember() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        // Three members of 700 records; chunks of 1000 records: chunk 1 (records 1000..<2000) starts inside member 2.
        var body = try Gzip.compress(Array(("id,name,amount\n" + Self.lines(0..<700)).utf8))
        let secondMember = Int64(body.count)
        body += try Gzip.compress(Array(Self.lines(700..<1400).utf8))
        body += try Gzip.compress(Array(Self.lines(1400..<2100).utf8))
        let (fileID, jobID) = try await submit(
            world, key: "incoming/members.csv.gz", body: body, feeds: feeds, limits: ["CHUNK_MAX_RECORDS": "1000", "BATCH_PROCESSING_THRESHOLD": "500"])
        let planned = try await chunk(world, fileID, 1)
        #expect(planned.route == .batch && planned.batchArrayIndex == 1)
        #expect(planned.spec.entry?.compressedOffset == secondMember, "entered at the member holding record 1000")

        let run = try await blocking { try world.runBatchContainer(jobID, index: 1, feeds: feeds) }
        #expect(run.status == 0, "\(run.stderr)")
        let delivered = try await output(world, "out/\(fileID)/\(fileID)-c00001.jsonl")
        #expect(delivered.count == 990)
        #expect(delivered.first?.hasPrefix(#"{"id":1000,"#) == true)
        #expect(delivered.last?.hasPrefix(#"{"id":1998,"#) == true)
        #expect(try await chunk(world, fileID, 1).counts == ChunkCounts(read: 1000, valid: 990, rejected: 10, delivered: 990))
    }

    @Test("a one-member gzip file: a Batch chunk is entered at an access point just before it, its window read back from the job table")
    func gzipAccessPoint() async throws {
        let world = try await blocking { try ChunkWorld.make() }
        let feeds = try world.feeds(fields: Self.fields, destination: .s3(S3Location(bucket: world.outputBucket, prefix: "out/")))
        // About 4.5 MB in one member; chunks of 60,000 records (1.5 MB), past the submitter's 1 MiB access point spacing.
        let body = try Gzip.compress(Array(("id,name,amount\n" + Self.lines(0..<180_000)).utf8))
        let (fileID, jobID) = try await submit(
            world, key: "incoming/one-member.csv.gz", body: body, feeds: feeds, limits: ["CHUNK_MAX_RECORDS": "60000", "BATCH_PROCESSING_THRESHOLD": "500"])
        let planned = try await chunk(world, fileID, 2)
        let entry = try #require(planned.spec.entry)
        #expect(!entry.isMemberStart, "entered at a block boundary, not the file's start")
        // Entered at most the spacing before, plus an output buffer and a deflate block.
        #expect(entry.decompressedOffset <= planned.spec.start && planned.spec.start - entry.decompressedOffset < 2 << 20)
        #expect(planned.spec.objectRange.lowerBound > Int64(body.count) / 3, "the last third is fetched from past the first, not from byte 0")

        let run = try await blocking { try world.runBatchContainer(jobID, index: 2, feeds: feeds) }
        #expect(run.status == 0, "\(run.stderr)")
        let delivered = try await output(world, "out/\(fileID)/\(fileID)-c00002.jsonl")
        #expect(delivered.count == 59_400)
        #expect(delivered.first?.hasPrefix(#"{"id":120000,"#) == true)
        #expect(delivered.last?.hasPrefix(#"{"id":179998,"#) == true)
        #expect(try await chunk(world, fileID, 2).counts == ChunkCounts(read: 60_000, valid: 59_400, rejected: 600, delivered: 59_400))
    }
}
