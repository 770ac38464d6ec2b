import AWSCore
import AWSServices
import Foundation
import LocalAWS
import JobModel
import JobStore

/// The scripted story `sortie demo` runs against `sortie dev`, printing a readable timeline and
/// checking what must hold: (1) a scheduled job failing at step 2 on attempt 1 is retried and
/// succeeds; (2) five submissions of a job with `max_concurrency: 2` never run more than two at
/// once and all succeed, in order; (3) a million-record file is cut, processed and counted
/// (`DemoStory+Chunks.swift`); (4) a chain of three jobs runs in order, and a failure in it
/// fails what depends on it (`DemoStory+Chain.swift`); (5) a clicks file delivered to Kafka and read
/// back (`DemoStory+Clicks.swift`); (6) a submission's override of its spec, and one refused
/// (`DemoStory+Overrides.swift`); (7) an array job of six children, two at a time (`DemoStory+Array.swift`); (8) a job
/// that waits out a capacity shortage (`DemoStory+Capacity.swift`); (9) what the jobs cost (`DemoStory+Cost.swift`); (10)
/// the report page of it all (`DemoStory+Report.swift`). `sortie dev` must run
/// with `DemoStory.overrides(repository:)`.
public struct DemoStory: Sendable {
    public struct Check: Sendable, Equatable {
        public var name: String
        public var passed: Bool
        public var detail: String
    }

    let environment: DevEnvironment
    let say: @Sendable (String) -> Void
    /// How long each story may take before it counts as failed.
    let patience: Duration

    public init(environment: DevEnvironment, patience: Duration = .seconds(60), say: @escaping @Sendable (String) -> Void) {
        self.environment = environment
        self.patience = patience
        self.say = say
    }

    public func run() async throws -> [Check] {
        try await retriedJob() + (try await concurrencyLimit()) + (try await chunkedFile()) + (try await dependentChain())
            + (try await clicksToKafka()) + (try await overriddenJob()) + (try await arrayJob()) + (try await capacityShortage()) + (try await jobCosts()) + (try await reportPage())
    }

    // MARK: Story 1

    static let nightly = JobSpec(
        name: "nightly-report", instance: demoInstance, arguments: ["date": .init(defaultValue: "2024-04-30")],
        steps: [
            .init(name: "extract", run: #"echo "extracting orders of $SORTIE_ARG_date""#),
            .init(name: "load", run: #"if [ "$SORTIE_ATTEMPT" = 1 ]; then echo 'warehouse not ready' >&2; exit 75; fi; echo loaded"#),
        ],
        timeoutSeconds: 120, retry: RetryStrategy(attempts: 2))

    func retriedJob() async throws -> [Check] {
        say("== 1. a scheduled job whose first attempt fails at step 2")
        try await publish(Self.nightly)
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": MotoServer.accountID, "time": ISO8601DateFormatter().string(from: Date()), "region": MotoServer.region,
            "resources": ["arn:aws:events:\(MotoServer.region):\(MotoServer.accountID):rule/sortie-\(Self.nightly.name)"],
            "detail": ["args": ["date": "2024-04-30"]],
        ]
        let id = try await launch(try JSONSerialization.data(withJSONObject: event))
        let record = try await settled(id) { $0.state == .succeeded || ($0.state == .failed && $0.attempt >= Self.nightly.retry.attempts) }
        timeline(record)
        let states = record.history.map(\.state)
        return [
            Check(name: "story 1: the job succeeded", passed: record.state == .succeeded, detail: "state \(record.state.rawValue)"),
            Check(name: "story 1: on attempt 2", passed: record.attempt == 2, detail: "attempt \(record.attempt)"),
            Check(
                name: "story 1: attempt 1 failed at step 2 and was relaunched",
                passed: zip(states, states.dropFirst()).contains { $0 == (.failed, .runnable) }
                    && record.history.contains { $0.state == .failed && ($0.reason ?? "").contains("load") },
                detail: states.map(\.rawValue).joined(separator: " → ")),
        ]
    }

    // MARK: Story 2

    static let hourly = JobSpec(
        name: "hourly-sync", instance: demoInstance, arguments: ["n": .init(defaultValue: "0")],
        steps: [.init(name: "sync", run: #"sleep 1; echo "sync $SORTIE_ARG_n""#)], timeoutSeconds: 120, maxConcurrency: 2)

    func concurrencyLimit() async throws -> [Check] {
        say("== 2. five submissions of a job with max_concurrency: 2")
        try await publish(Self.hourly)
        var ids: [String] = []
        for number in 1...5 {
            let event: [String: Any] = ["job": Self.hourly.name, "args": ["n": String(number)], "id": "demo-\(UUID().uuidString.lowercased())"]
            ids.append(try await launch(try JSONSerialization.data(withJSONObject: event)))
        }
        var records: [JobRecord] = []
        for id in ids { records.append(try await settled(id) { $0.state == .succeeded || $0.state == .failed }) }
        let origin = records.compactMap { $0.history.first?.at }.min() ?? 0
        for (number, record) in records.enumerated() {
            let started = record.history.first { $0.state == .starting }?.at ?? 0
            let ended = record.history.last?.at ?? 0
            say("  #\(number + 1) \(record.id.prefix(8)) \(record.state.rawValue)  started \(Self.offset(started - origin))  ended \(Self.offset(ended - origin))")
        }
        let intervals = records.map { record in
            (record.history.first { $0.state == .starting }?.at ?? .max, record.history.last { $0.state == .succeeded || $0.state == .failed }?.at ?? .max)
        }
        // Each time is its writer's clock before the write landed, and moto takes waiting writes in
        // no set order: a slot's new holder may be stamped a little before its old holder's end.
        let most = Self.mostAtOnce(intervals, slack: Self.writerSlack)
        let starts = intervals.map(\.0)
        return [
            Check(name: "story 2: never more than two at once", passed: most <= 2, detail: "at most \(most) at once"),
            Check(name: "story 2: all five succeeded", passed: records.allSatisfy { $0.state == .succeeded },
                  detail: records.map(\.state.rawValue).joined(separator: ", ")),
            Check(name: "story 2: started in submission order", passed: starts == starts.sorted(), detail: "start order by submission"),
        ]
    }

    /// How far apart (ms) two writers' stamps of writes that followed each other may be, reversed.
    static let writerSlack: Int64 = 250

    /// The most intervals (start, end) that overlap at any instant; an end frees its place before a start at the same instant,
    /// and before a start up to `slack` earlier.
    static func mostAtOnce(_ intervals: [(Int64, Int64)], slack: Int64 = 0) -> Int {
        let points = intervals.flatMap { [($0.0, 1), ($0.1 - slack, -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var current = 0
        var most = 0
        for point in points {
            current += point.1
            most = max(most, current)
        }
        return most
    }

    // MARK: Parts

    static let demoInstance = InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890")

    /// Publishes a spec as `sortie publish` does.
    func publish(_ spec: JobSpec) async throws {
        let (client, bucket) = (environment.client, environment.resources.bucket)
        let body = try JSONEncoder.sorted.encode(spec)
        try await blocking { try S3(client: client).putObject(bucket: bucket, key: "specs/\(spec.name).json", body: body) }
    }

    /// Sends the launcher an event; the job's id.
    func launch(_ event: Data) async throws -> String {
        struct Answer: Decodable {
            var outcome: String
            var jobID: String?

            enum CodingKeys: String, CodingKey {
                case outcome, jobID = "jobId"
            }
        }
        let answer = try JSONDecoder().decode(Answer.self, from: try await environment.invoke("launcher", event))
        guard let id = answer.jobID else { throw DevError.expectation("the launcher answered \(answer.outcome) without a job id") }
        say("  launcher: \(answer.outcome) job \(id.prefix(8))")
        return id
    }

    /// The job's record once `done` holds, polled; the last one seen when `patience` runs out.
    func settled(_ id: String, done: (JobRecord) -> Bool) async throws -> JobRecord {
        let store = JobStore(dynamoDB: DynamoDB(client: environment.client), table: environment.resources.table)
        let deadline = ContinuousClock.now + patience
        while true {
            guard let record = try await blocking({ try store.record(id) }) else { throw DevError.expectation("job \(id) has no record") }
            if done(record) || ContinuousClock.now >= deadline { return record }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Milliseconds as `+1.2s`.
    static func offset(_ milliseconds: Int64) -> String { String(format: "+%.1fs", Double(milliseconds) / 1000) }

    func timeline(_ record: JobRecord) {
        let origin = record.history.first?.at ?? 0
        for transition in record.history {
            let state = transition.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            say("  \(Self.offset(transition.at - origin))  \(state) \(transition.reason ?? "")")
        }
    }
}
