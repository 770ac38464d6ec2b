import AWSServices
import Foundation
import JobCancel
import JobModel
import JobStore
import LocalAWS

/// Story 7: an array job, `shard-report` with `array: 6` on its submission: one parent id, six
/// children, each its own instance with `SORTIE_ARRAY_INDEX`/`SORTIE_ARRAY_SIZE`, never more
/// than the spec's `max_concurrency: 2` at once, and the parent SUCCEEDED once all six did; then
/// `shard-slow`, an array cancelled while its first two children run (as `sortie cancel PARENT`).
extension DemoStory {
    static let shardReport = JobSpec(
        name: "shard-report", instance: demoInstance,
        steps: [.init(name: "shard", run: #"sleep 1; echo "shard $SORTIE_ARRAY_INDEX of $SORTIE_ARRAY_SIZE""#)], timeoutSeconds: 120,
        maxConcurrency: 2)
    static let shardCount = 6
    /// Children that outlast the cancel, with retries their cancel must not use.
    static let shardSlow = JobSpec(
        name: "shard-slow", instance: demoInstance, steps: [.init(name: "shard", run: "sleep 60")], timeoutSeconds: 120,
        retry: RetryStrategy(attempts: 2), maxConcurrency: 2)

    func arrayJob() async throws -> [Check] {
        say("== 7. shard-report submitted as an array of \(Self.shardCount) (max_concurrency: 2)")
        try await publish(Self.shardReport)
        let event: [String: Any] = ["job": Self.shardReport.name, "array": Self.shardCount, "id": "demo-\(UUID().uuidString.lowercased())"]
        let parent = try await settled(try await launch(try JSONSerialization.data(withJSONObject: event))) { $0.state.isFinal }
        let store = JobStore(dynamoDB: DynamoDB(client: environment.client), table: environment.resources.table)
        let children = try await blocking { try store.children(of: parent, created: Self.shardCount) }
        let origin = parent.history.first?.at ?? 0
        for child in children {
            let started = child.history.first { $0.state == .starting }?.at ?? 0
            say("  child \(child.arrayChild?.index ?? -1) \(child.state.rawValue)  started \(Self.offset(started - origin))  ended \(Self.offset((child.history.last?.at ?? 0) - origin))")
        }
        say("  parent \(parent.id.prefix(8)) \(parent.state.rawValue): \(parent.statusReason ?? "")")
        let most = Self.mostAtOnce(children.map { child in
            (child.history.first { $0.state == .starting }?.at ?? .max, child.history.last { $0.state.isFinal }?.at ?? .max)
        }, slack: Self.writerSlack)
        return [
            Check(name: "story 7: the array's parent succeeded", passed: parent.state == .succeeded, detail: "\(parent.state.rawValue): \(parent.statusReason ?? "")"),
            Check(
                name: "story 7: six children, one per index, each succeeded on its own instance",
                passed: children.map { $0.arrayChild?.index } == Array(0..<Self.shardCount)
                    && children.allSatisfy { $0.state == .succeeded && $0.instanceID != nil },
                detail: children.map { "\($0.arrayChild?.index ?? -1): \($0.state.rawValue)" }.joined(separator: ", ")),
            Check(name: "story 7: never more than two children at once", passed: most <= 2, detail: "at most \(most) at once"),
            try await cancelledArray(store),
        ]
    }

    /// An array cancelled while two children run: the parent FAILED at once, no child made after
    /// it, the running ones terminated and recorded FAILED without a retry, the queued ones FAILED.
    private func cancelledArray(_ store: JobStore) async throws -> Check {
        say("  shard-slow as an array of \(Self.shardCount), cancelled while its first two children run (sortie cancel PARENT)")
        try await publish(Self.shardSlow)
        let event: [String: Any] = ["job": Self.shardSlow.name, "array": Self.shardCount, "id": "demo-\(UUID().uuidString.lowercased())"]
        let id = try await launch(try JSONSerialization.data(withJSONObject: event))
        for index in 0..<2 { _ = try await settled(JobArrays.childID(id, index)) { $0.state == .running } }
        let canceller = JobCanceller(store: store, ec2: EC2(client: environment.client), reason: "Cancelled by the demo")
        let parent = try await settled(id) { _ in true }
        guard case .array(let cancel) = try await blocking({ try canceller.cancel(parent) }) else {
            return Check(name: "story 7: a cancelled array ends its children", passed: false, detail: "not cancelled as an array")
        }
        for child in cancel.terminating { _ = try await settled(child.id) { $0.state.isFinal } }
        let ended = try await settled(id) { $0.state.isFinal }
        let created = try await blocking { try store.array(id) }?.progress.created ?? 0
        let children = try await blocking { try store.children(of: ended, created: created) }
        say("  parent \(id.prefix(8)) \(ended.state.rawValue): \(ended.statusReason ?? ""); \(cancel.terminating.count) running children terminated, \(cancel.unstarted.count) queued ones FAILED, none made after")
        for child in children {
            say("  child \(child.arrayChild?.index ?? -1) \(child.state.rawValue) after attempt \(child.attempt): \(child.statusReason ?? "")")
        }
        return Check(
            name: "story 7: a cancelled array is FAILED at once, its running children terminated without a retry, no child made after it",
            passed: ended.state == .failed && ended.statusReason == "Cancelled by the demo" && cancel.terminating.count == 2
                && children.count == 4 && children.allSatisfy { $0.state == .failed && $0.attempt == 1 },
            detail: "\(ended.state.rawValue); children: " + children.map { "\($0.arrayChild?.index ?? -1) \($0.state.rawValue)/\($0.attempt)" }.joined(separator: ", "))
    }
}
