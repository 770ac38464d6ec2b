import Foundation
import LocalAWS
import Synchronization

/// Fires the "Scheduled Event"s of the functions' `schedule` triggers that carry a
/// `rate(…)` expression, `speedUp` times faster than EventBridge would (a demo cannot wait five
/// minutes for the reactor's sweep).
final class DevScheduler: Sendable {
    struct Schedule: Sendable, Equatable {
        var function: String
        var expression: String
        var interval: Duration
    }

    private let tasks = Mutex<[Task<Void, Never>]>([])

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

    static func schedules(_ definitions: [FunctionDefinition], speedUp: Int) -> [Schedule] {
        definitions.filter(\.isLambda).flatMap { definition in
            (definition.triggers ?? []).compactMap { trigger -> Schedule? in
                guard trigger.type == "schedule", let expression = trigger.expression, let interval = interval(expression) else { return nil }
                return Schedule(function: definition.name, expression: expression, interval: interval / max(speedUp, 1))
            }
        }
    }

    /// The event EventBridge sends for a rule named `sortie-<function>-schedule`.
    static func event(rule: String) -> Data {
        let (region, account) = (MotoServer.region, MotoServer.accountID)
        let event: [String: Any] = [
            "version": "0", "id": UUID().uuidString.lowercased(), "detail-type": "Scheduled Event", "source": "aws.events", "account": account,
            "time": ISO8601DateFormatter().string(from: Date()), "region": region, "resources": ["arn:aws:events:\(region):\(account):rule/\(rule)"],
            "detail": [String: String](),
        ]
        return (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
    }

    func start(_ schedules: [Schedule], fire: @escaping @Sendable (_ function: String, _ event: Data) async -> Void) {
        let started = schedules.map { schedule in
            Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: schedule.interval)
                    guard !Task.isCancelled else { return }
                    await fire(schedule.function, Self.event(rule: "sortie-\(schedule.function)-schedule"))
                }
            }
        }
        tasks.withLock { $0 += started }
    }

    func stop() {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }
}
