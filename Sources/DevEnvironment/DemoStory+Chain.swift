import Foundation
import LocalAWS
import JobModel

/// Story 4: a chain scheduled on its last job, `daily-load` (its spec `depends_on:
/// [daily-transform]`, which depends on `daily-extract`): one Scheduled Event submits all three,
/// each started only once the one before it SUCCEEDED. Fired again with `fail=yes`, the
/// transform fails and the load is FAILED naming it, without an instance.
extension DemoStory {
    static let chainArguments: [String: JobSpec.ArgumentSpec] = ["fail": .init(defaultValue: "no")]
    static let extract = JobSpec(
        name: "daily-extract", instance: demoInstance, steps: [.init(name: "extract", run: "sleep 1; echo extracted")], timeoutSeconds: 120)
    static let transform = JobSpec(
        name: "daily-transform", instance: demoInstance, arguments: chainArguments,
        steps: [.init(name: "transform", run: #"if [ "$SORTIE_ARG_fail" = yes ]; then echo 'bad input' >&2; exit 1; fi; echo transformed"#)],
        timeoutSeconds: 120, dependsOn: ["daily-extract"])
    static let load = JobSpec(
        name: "daily-load", instance: demoInstance, arguments: chainArguments, steps: [.init(name: "load", run: "echo loaded")], timeoutSeconds: 120,
        dependsOn: ["daily-transform"])

    func dependentChain() async throws -> [Check] {
        say("== 4. a chain scheduled on daily-load: daily-extract → daily-transform → daily-load")
        for spec in [Self.extract, Self.transform, Self.load] { try await publish(spec) }
        let good = try await chain(fail: false)
        let origin = good.first?.history.first?.at ?? 0
        for record in good {
            let started = record.history.first { $0.state == .starting }?.at ?? 0
            say("  \(record.job.padding(toLength: 16, withPad: " ", startingAt: 0)) \(record.state.rawValue)  started \(Self.offset(started - origin))  ended \(Self.offset((record.history.last?.at ?? 0) - origin))")
        }
        let inOrder = zip(good, good.dropFirst()).allSatisfy { before, after in
            (before.history.last { $0.state == .succeeded }?.at ?? .max) <= (after.history.first { $0.state == .starting }?.at ?? .min)
        }
        say("== 4b. the same chain with fail=yes: daily-transform fails")
        let bad = try await chain(fail: true)
        for record in bad { say("  \(record.job.padding(toLength: 16, withPad: " ", startingAt: 0)) \(record.state.rawValue)  \(record.statusReason ?? "")") }
        let (transform, load) = (bad[1], bad[2])
        return [
            Check(name: "story 4: the chain's three jobs succeeded", passed: good.count == 3 && good.allSatisfy { $0.state == .succeeded },
                  detail: good.map { "\($0.job) \($0.state.rawValue)" }.joined(separator: ", ")),
            Check(name: "story 4: each started after the one it depends on succeeded", passed: inOrder, detail: "start and end times above"),
            Check(
                name: "story 4: a failed transform fails the load, naming it, without an instance",
                passed: transform.state == .failed && load.state == .failed && load.instanceID == nil
                    && load.statusReason?.hasPrefix("Dependency daily-transform \(transform.id) FAILED") == true,
                detail: "load: \(load.state.rawValue), \(load.statusReason ?? "")"),
        ]
    }

    /// Fires daily-load's schedule; the chain's records, extract first, once each has ended.
    private func chain(fail: Bool) async throws -> [JobRecord] {
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": MotoServer.accountID, "time": ISO8601DateFormatter().string(from: Date()), "region": MotoServer.region,
            "resources": ["arn:aws:events:\(MotoServer.region):\(MotoServer.accountID):rule/sortie-\(Self.load.name)"],
            "detail": ["args": ["fail": fail ? "yes" : "no"]],
        ]
        var ids = [try await launch(try JSONSerialization.data(withJSONObject: event))]
        // load's dependsOn names the transform, whose dependsOn names the extract.
        while let first = ids.first, let dependency = try await settled(first, done: { _ in true }).dependsOn.first { ids.insert(dependency, at: 0) }
        var records: [JobRecord] = []
        for id in ids { records.append(try await settled(id) { $0.state == .succeeded || $0.state == .failed }) }
        guard records.count == 3 else { throw DevError.expectation("daily-load's chain has \(records.count) jobs, not 3") }
        return records
    }
}
