import AWSServices
import Foundation
import JobModel
import JobStore
import LocalAWS

/// Story 7: an array job, `shard-report` with `array: 6` on its submission: one parent id, six
/// children, each its own instance with `SORTIE_ARRAY_INDEX`/`SORTIE_ARRAY_SIZE`, never more
/// than the spec's `max_concurrency: 2` at once, and the parent SUCCEEDED once all six did.
extension DemoStory {
    static let shardReport = JobSpec(
        name: "shard-report", instance: demoInstance,
        steps: [.init(name: "shard", run: #"sleep 1; echo "shard $SORTIE_ARRAY_INDEX of $SORTIE_ARRAY_SIZE""#)], timeoutSeconds: 120,
        maxConcurrency: 2)
    static let shardCount = 6

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
        ]
    }
}
