import AWSCore
import AWSServices
import JobModel
import JobStore

/// An operator's cancel of one job, as Batch's CancelJob and TerminateJob: a job that never
/// started is FAILED here (never retried) and its dependents follow; a started one has the cancel
/// noted on its attempt, then its instance terminated, and the reactor records it FAILED with
/// the cancel's reason, never retried; an array's parent ends its children
/// (`JobCanceller+Arrays`). A job already ended whose instance was kept (`no_shutdown`) has that
/// instance terminated. Used by `sortie cancel` and the demo's story.
public struct JobCanceller: Sendable {
    public var store: JobStore
    public var ec2: EC2
    /// The cancelled job's status reason: `Cancelled by <user>`.
    public var reason: String

    public init(store: JobStore, ec2: EC2, reason: String) {
        self.store = store
        self.ec2 = ec2
        self.reason = reason
    }

    public enum Outcome: Sendable {
        /// It never started: FAILED here, and these dependents FAILED with it.
        case unstarted(failedDependents: [JobRecord])
        /// Its instance is terminating; the reactor records the ending.
        case terminating(instanceID: String)
        /// It had already ended; the instance kept for debugging is terminating.
        case keptInstanceTerminating(instanceID: String)
        case array(ArrayCancel)
    }

    /// `stage` hears each step, for the operator.
    public func cancel(_ record: JobRecord, stage: (String) -> Void = { _ in }) throws(CancelError) -> Outcome {
        if record.array != nil, record.state == .running || record.state == .failed {
            return .array(try cancelArray(record, stage: stage))
        }
        switch record.state {
        case .succeeded, .failed:
            guard let instance = record.instanceID,
                  let state = try aws({ () throws(AWSError) in try ec2.describeInstances(instanceIds: [instance]).instances.first?.state?.name }),
                  ["pending", "running", "stopped"].contains(state) else {
                throw .alreadyEnded(id: record.id, state: record.state)
            }
            _ = try aws { () throws(AWSError) in try ec2.terminateInstances([instance]) }
            return .keptInstanceTerminating(instanceID: instance)
        case .submitted, .pending, .runnable:
            guard try aws({ () throws(AWSError) in try store.cancelUnstarted(record.id, attempt: record.attempt, reason: reason) }) else {
                throw .movedOn(id: record.id)
            }
            return .unstarted(failedDependents: try failDependents(of: record.id, stage: stage))
        case .starting, .running:
            guard let instance = record.instanceID else { throw .noInstanceYet(id: record.id) }
            try aws { () throws(AWSError) in try store.noteCancel(record.id, attempt: record.attempt, reason: reason) }
            _ = try aws { () throws(AWSError) in try ec2.terminateInstances([instance]) }
            return .terminating(instanceID: instance)
        }
    }

    /// Its PENDING dependents, FAILED naming it (and theirs in turn).
    func failDependents(of id: String, stage: (String) -> Void) throws(CancelError) -> [JobRecord] {
        var failed: [JobRecord] = []
        for case .failed(let dependent) in try aws({ () throws(AWSError) in try store.resolveDependents(of: id) }) {
            stage("dependent \(dependent.id) (\(dependent.job)) FAILED: \(dependent.statusReason ?? "")")
            failed.append(dependent)
        }
        return failed
    }

    func aws<T>(_ body: () throws(AWSError) -> T) throws(CancelError) -> T {
        do {
            return try body()
        } catch {
            throw .aws(error)
        }
    }
}

/// Why a cancel did not take.
public enum CancelError: Error, CustomStringConvertible, Sendable {
    case alreadyEnded(id: String, state: JobState)
    /// Another writer moved it between the read and the cancel.
    case movedOn(id: String)
    /// STARTING before its instance was recorded.
    case noInstanceYet(id: String)
    /// An array's child that was still being launched after the canceller's patience.
    case childStillStarting(id: String, seconds: Int)
    case aws(AWSError)

    public var description: String {
        switch self {
        case .alreadyEnded(let id, let state): "job \(id) has already ended: \(state.rawValue)"
        case .movedOn(let id): "job \(id) moved on meanwhile; try again"
        case .noInstanceYet(let id): "job \(id) has no instance yet; try again"
        case .childStillStarting(let id, let seconds): "child \(id) was still starting without an instance after \(seconds)s: cancel the array again to end it"
        case .aws(let error): "\(error)"
        }
    }
}
