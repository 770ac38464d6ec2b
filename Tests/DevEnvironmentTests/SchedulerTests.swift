@testable import DevEnvironment
import AWSServices
import DevTestSupport
import Foundation
import JobModel
import JobStore
import SortieTestSupport
import Synchronization
import Testing
import WallTime

@Suite("sortie dev's scheduler, end to end")
struct SchedulerTests {
    /// Minutes played through at once: each sleep moves the time on instead of waiting, and every
    /// other one wakes halfway, as a sleep that returns early would. Past `end` it parks until cancelled.
    final class PlayedClock: Sendable {
        private let state: Mutex<(now: Date, sleeps: Int)>
        let end: Date

        init(from start: Date, to end: Date) {
            state = Mutex((start, 0))
            self.end = end
        }

        var now: Date { state.withLock { $0.now } }

        var clock: WallClock {
            WallClock(nowMilliseconds: { Int64((self.now.timeIntervalSince1970 * 1000).rounded()) }) { duration in
                let passed = self.state.withLock { state -> Bool in
                    state.sleeps += 1
                    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
                    state.now += state.sleeps.isMultiple(of: 2) ? seconds / 2 : seconds
                    return state.now > self.end
                }
                if passed { try? await Task.sleep(for: .seconds(600)) } else { await Task.yield() }
            }
        }
    }

    @Test("a job's cron schedule fires a Scheduled Event at each matching UTC minute, once, never at another; the launcher records the job with the schedule's arguments")
    func cronLaunchesJobs() async throws {
        try await DevHarness.onDev { environment, _ in
            let story = DemoStory(environment: environment) { _ in }
            let instance = DemoStory.demoInstance
            // functions/launcher.json schedules nightly-etl at cron(0 2 * * ? *) with day=yesterday.
            try await story.publish(JobSpec(
                name: "nightly-etl", instance: instance, arguments: ["day": .init(defaultValue: "today")],
                steps: [.init(name: "etl", run: #"echo "etl for $SORTIE_ARG_day""#)], timeoutSeconds: 60))
            try await story.publish(JobSpec(
                name: "cron-pulse", instance: instance, arguments: ["tick": .init(defaultValue: "none")],
                steps: [.init(name: "pulse", run: "true")], timeoutSeconds: 60, maxConcurrency: 3))
            let pulseCron = try #require(CronExpression("cron(0/2 2 * * ? *)"))
            let schedules = DevScheduler.schedules(environment.definitions, speedUp: 150).filter { $0.function == "launcher" } + [
                .init(function: "launcher", expression: "cron(0/2 2 * * ? *)", timing: .cron(pulseCron), job: "cron-pulse", args: ["tick": "even"])
            ]
            #expect(schedules.map(\.job) == ["nightly-etl", "cron-pulse"])

            func date(_ text: String) throws -> Date { try #require(ISO8601DateFormatter().date(from: text)) }
            let fired = Mutex<[(rule: String, time: String, id: String, answer: String)]>([])
            // One scheduler (and played clock) per schedule: a played sleep moves everyone's time.
            var running: [(DevScheduler, PlayedClock)] = []
            for schedule in schedules {
                let played = PlayedClock(from: try date("2026-11-25T01:58:10Z"), to: try date("2026-11-25T02:05:30Z"))
                let scheduler = DevScheduler(clock: played.clock)
                scheduler.start([schedule]) { function, event in
                    let answer = (try? await environment.invoke(function, event)).map { String(decoding: $0, as: UTF8.self) } ?? "no answer"
                    let object = (try? JSONSerialization.jsonObject(with: event)) as? [String: Any] ?? [:]
                    let rule = ((object["resources"] as? [String])?.first ?? "").split(separator: "/").last.map(String.init) ?? ""
                    fired.withLock { $0.append((rule, object["time"] as? String ?? "", object["id"] as? String ?? "", answer)) }
                }
                running.append((scheduler, played))
            }
            for (scheduler, played) in running {
                try await DevHarness.eventually(timeout: .seconds(60)) { played.now > played.end }
                scheduler.stop()
            }

            let events = fired.withLock { $0 }
            let when = events.map { "\($0.rule) \($0.time)" }.sorted()
            #expect(when == [
                "sortie-cron-pulse 2026-11-25T02:00:00Z", "sortie-cron-pulse 2026-11-25T02:02:00Z", "sortie-cron-pulse 2026-11-25T02:04:00Z",
                "sortie-nightly-etl 2026-11-25T02:00:00Z",
            ])
            for event in events { #expect(event.answer.contains(#""outcome":"launched""#), "\(event.answer)") }

            // Each event made one job, with the schedule's arguments.
            let store = JobStore(dynamoDB: DynamoDB(client: environment.client), table: environment.resources.table)
            let records = try await blocking { try store.records() }
            let ids = Set(events.map(\.id))
            let launched = records.filter { $0.eventID.map(ids.contains) == true }
            #expect(launched.count == 4 && Set(launched.compactMap(\.eventID)) == ids)
            #expect(launched.filter { $0.job == "nightly-etl" }.map(\.parameters) == [["day": "yesterday"]])
            #expect(launched.filter { $0.job == "cron-pulse" }.map(\.parameters) == Array(repeating: ["tick": "even"], count: 3))
        }
    }
}
