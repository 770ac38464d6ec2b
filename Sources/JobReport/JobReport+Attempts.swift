import JobCost
import JobModel
import JobStore

extension JobReport.Job {
    /// A stored job as the page draws it: its history cut into attempts at each retry (FAILED →
    /// RUNNABLE), each attempt's outcome and details from the record (the current attempt) or the
    /// summary `requeue` kept (an earlier one). `kept` holds the EC2 state of the instances still
    /// up after their attempt, by instance id; `cost`, what each attempt cost.
    public init(_ stored: JobStore.StoredJob, kept: [String: String] = [:], cost: JobCost? = nil) {
        let record = stored.record
        var spans: [[JobRecord.Transition]] = [[]]
        for (index, transition) in record.history.enumerated() {
            if transition.state == .runnable, index > 0, record.history[index - 1].state == .failed { spans.append([]) }
            spans[spans.count - 1].append(transition)
        }
        // A record may say more attempts than its history shows (history cut short): the numbers end at the record's.
        let first = max(1, record.attempt - spans.count + 1)
        let attempts = spans.enumerated().map { offset, transitions in
            let number = first + offset
            let last = transitions.last?.state ?? record.state
            let outcome: JobReport.Outcome = switch last {
            case .submitted, .pending, .runnable: .waiting
            case .starting, .running: .running
            case .succeeded: .succeeded
            case .failed: number < record.attempt ? .retried : .failed
            }
            var attempt = JobReport.Attempt(
                number: number, outcome: outcome, startedAt: transitions.last { $0.state == .starting }?.at,
                runningAt: transitions.last { $0.state == .running }?.at, endedAt: transitions.last { $0.state.isFinal }?.at)
            if number == record.attempt {
                attempt.instanceID = record.instanceID
                attempt.instanceType = record.instanceType
                attempt.market = record.market?.rawValue
                attempt.exitCode = record.exitCode
                attempt.reason = outcome == .waiting || outcome == .running ? nil : Self.reason(record.statusReason, record.reason)
                attempt.log = stored.log
            } else if let summary = stored.earlierAttempts.first(where: { $0.attempt == number }) {
                attempt.instanceID = summary.instanceID
                attempt.instanceType = summary.instanceType
                attempt.market = summary.market?.rawValue
                attempt.exitCode = summary.exitCode
                attempt.reason = Self.reason(summary.statusReason, summary.reason)
                attempt.log = summary.log
            }
            attempt.kept = attempt.instanceID.flatMap { kept[$0] }
            attempt.usd = cost?.attempts.first { $0.usage.attempt == number }?.usd
            return attempt
        }
        self.init(
            id: record.id, name: record.job, state: record.state, reason: record.statusReason, submittedAt: record.submittedAt,
            history: record.history, attempts: attempts,
            dependsOn: record.dependsOn)
    }

    /// `Essential step failed: Step 'load' exited with status 3`: the job-level reason, then the step's when it says more.
    static func reason(_ status: String?, _ step: String?) -> String? {
        switch (status, step) {
        case (let status?, let step?) where status != step: "\(status): \(step)"
        case (let status?, _): status
        case (nil, let step): step
        }
    }
}
