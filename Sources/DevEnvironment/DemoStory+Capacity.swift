import Foundation
import JobModel

/// Story 8: EC2 has no capacity for the spec's one type (staged on `sortie dev`'s EC2 front, as
/// `sortie dev capacity --sold-out t3.micro` does): the job waits RUNNABLE with the reason, tried
/// again by the reactor, its history holding the first refusal rather than each try; once capacity
/// is back it is launched and succeeds.
extension DemoStory {
    static let shortageReport = JobSpec(
        name: "shortage-report", instance: demoInstance, steps: [.init(name: "report", run: "echo 'ran once capacity returned'")],
        timeoutSeconds: 120, capacityTimeoutSeconds: 600)

    func capacityShortage() async throws -> [Check] {
        say("== 8. shortage-report while EC2 has no t3.micro capacity (sortie dev capacity --sold-out t3.micro)")
        try await publish(Self.shortageReport)
        let front = environment.ec2
        front.soldOut = ["t3.micro"]
        let before = front.refusals
        let id = try await launch(try JSONSerialization.data(withJSONObject: ["job": Self.shortageReport.name]))
        let waiting = try await settled(id) { front.refusals - before >= 3 && $0.state == .runnable }
        let tries = front.refusals - before
        front.soldOut = []
        say("  \(waiting.state.rawValue) after \(tries) refused tries: \(waiting.statusReason ?? "")")
        say("  capacity back (sortie dev capacity --available)")
        let record = try await settled(id) { $0.state.isFinal }
        timeline(record)
        let refusals = record.history.filter { $0.state == .runnable && ($0.reason ?? "").hasPrefix("No capacity for any instance type") }
        let launch = record.history.first { $0.state == .starting && ($0.reason ?? "").hasPrefix("Instance requested: capacity returned after") }
        return [
            Check(
                name: "story 8: RUNNABLE without an instance while t3.micro was sold out, tried again", passed: waiting.state == .runnable && waiting.instanceID == nil && tries >= 3,
                detail: "\(waiting.state.rawValue) after \(tries) tries"),
            Check(name: "story 8: its history holds the first refusal, not each try", passed: refusals.count == 1, detail: "\(record.history.count) entries, \(refusals.count) refusals"),
            Check(
                name: "story 8: launched once capacity returned, and succeeded", passed: record.state == .succeeded && launch != nil,
                detail: "\(record.state.rawValue): \(launch?.reason ?? "no launch entry")"),
        ]
    }
}
