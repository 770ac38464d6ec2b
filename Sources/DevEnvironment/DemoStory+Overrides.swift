import Foundation
import JobModel

/// Story 6: a manual submission changes what its spec's `overrides:` allows, for its one job:
/// `environment.LEVEL=debug` reaches the steps and is recorded on the job; an override the spec
/// does not list is refused (`Sortie.InvalidOverrides`), and no job is made.
extension DemoStory {
    static let debugReport = JobSpec(
        name: "debug-report", instance: demoInstance, environment: ["LEVEL": "info"],
        steps: [.init(name: "report", run: #"echo "reporting at $LEVEL"; [ "$LEVEL" = debug ]"#)], timeoutSeconds: 120,
        overrides: ["environment.LEVEL"])

    func overriddenJob() async throws -> [Check] {
        say("== 6. debug-report submitted with --override environment.LEVEL=debug (its spec: overrides: [environment.LEVEL])")
        try await publish(Self.debugReport)
        let event = ["job": Self.debugReport.name, "overrides": ["environment": ["LEVEL": "debug"]]] as [String: Any]
        let record = try await settled(try await launch(try JSONSerialization.data(withJSONObject: event))) { $0.state.isFinal }
        timeline(record)
        let refused: String
        do {
            let body = try JSONSerialization.data(withJSONObject: ["job": Self.debugReport.name, "overrides": ["no_shutdown": true]])
            refused = "answered \(String(decoding: try await environment.invoke("launcher", body), as: UTF8.self))"
        } catch {
            refused = "\(error)"
        }
        say("  no_shutdown=true: \(refused)")
        return [
            Check(name: "story 6: the overridden job succeeded with LEVEL=debug", passed: record.state == .succeeded, detail: "state \(record.state.rawValue)"),
            Check(name: "story 6: the override is recorded on the job", passed: record.overrides == ["environment.LEVEL": "debug"], detail: "\(record.overrides)"),
            Check(
                name: "story 6: an override the spec does not allow is refused", passed: refused.contains("Sortie.InvalidOverrides"), detail: refused),
        ]
    }
}
