import Deployment
import Foundation
import LocalAWS
import Synchronization
import WallTime

/// Fires the "Scheduled Event"s of the functions' `schedule` triggers: `rate(…)` ones `speedUp`
/// times faster than EventBridge would (a demo cannot wait five minutes for the reactor's sweep),
/// `cron(…)` ones at their minutes (UTC), with the trigger's job and arguments as `detail`.
final class DevScheduler: Sendable {
    enum Timing: Sendable, Equatable {
        case every(Duration)
        case cron(CronExpression)
    }

    struct Schedule: Sendable, Equatable {
        var function: String
        var expression: String
        var timing: Timing
        var job: String?
        var args: [String: String] = [:]

        /// The rule EventBridge would name in `resources`.
        var rule: String { "sortie-\(job ?? "\(function)-schedule")" }
    }

    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Injectable so that a test can play through minutes at once.
    private let clock: WallClock

    init(clock: WallClock = .system) {
        self.clock = clock
    }

    /// `rate(5 minutes)` as EventBridge writes it; `nil` for anything else.
    static func interval(_ expression: String) -> Duration? {
        guard expression.hasPrefix("rate("), expression.hasSuffix(")") else { return nil }
        let parts = expression.dropFirst("rate(".count).dropLast().split(separator: " ")
        guard parts.count == 2, let value = Int(parts[0]), value > 0 else { return nil }
        let unit: Int
        switch parts[1] {
        case "minute", "minutes": unit = 60
        case "hour", "hours": unit = 3600
        case "day", "days": unit = 86_400
        default: return nil
        }
        return .seconds(value * unit)
    }

    /// Every schedule the definitions declare that `sortie dev` can keep; unreadable expressions are left out.
    static func schedules(_ definitions: [FunctionDefinition], speedUp: Int) -> [Schedule] {
        definitions.filter(\.isLambda).flatMap { definition in
            (definition.triggers ?? []).compactMap { trigger -> Schedule? in
                guard trigger.type == "schedule", let expression = trigger.expression else { return nil }
                let timing: Timing
                if let interval = interval(expression) {
                    timing = .every(interval / max(speedUp, 1))
                } else if let cron = CronExpression(expression) {
                    timing = .cron(cron)
                } else {
                    return nil
                }
                return Schedule(function: definition.name, expression: expression, timing: timing, job: trigger.job, args: trigger.stringArguments ?? [:])
            }
        }
    }

    /// The event EventBridge sends for `schedule`'s rule at `time` (a cron rule's is its minute).
    static func event(_ schedule: Schedule, time: Date = Date()) -> Data {
        let (region, account) = (MotoServer.region, MotoServer.accountID)
        var detail: [String: Any] = [:]
        if let job = schedule.job { detail = ["job": job, "args": schedule.args] }
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event", "source": "aws.events", "account": account,
            "time": ISO8601DateFormatter().string(from: time), "region": region,
            "resources": ["arn:aws:events:\(region):\(account):rule/\(schedule.rule)"], "detail": detail,
        ]
        return (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
    }

    func start(_ schedules: [Schedule], fire: @escaping @Sendable (_ function: String, _ event: Data) async -> Void) {
        let clock = clock
        @Sendable func currentDate() -> Date { Date(timeIntervalSince1970: Double(clock.nowMilliseconds()) / 1000) }
        let started = schedules.map { schedule in
            Task {
                // The last minute (since 1970) a cron rule fired in: never twice in one, however the sleeps fall.
                var lastMinute: Int64?
                while !Task.isCancelled {
                    let time: Date
                    switch schedule.timing {
                    case .every(let interval):
                        await clock.sleep(interval)
                        time = currentDate()
                    case .cron(let cron):
                        // Wake at the next minute's start; fire only in the minutes the expression names.
                        let seconds = 60 - currentDate().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)
                        await clock.sleep(.milliseconds(Int(seconds * 1000) + 50))
                        let now = currentDate()
                        let minute = Int64((now.timeIntervalSince1970 / 60).rounded(.down))
                        guard cron.matches(now), minute != lastMinute else { continue }
                        lastMinute = minute
                        time = Date(timeIntervalSince1970: Double(minute * 60))
                    }
                    guard !Task.isCancelled else { return }
                    await fire(schedule.function, Self.event(schedule, time: time))
                }
            }
        }
        tasks.withLock { $0 += started }
    }

    func stop() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}
