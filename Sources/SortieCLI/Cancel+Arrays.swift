import AWSServices
import Foundation
import JobModel
import JobStore

/// `sortie cancel` on an array's parent, as Batch's TerminateJob on one: the parent FAILED at
/// once with the cancel's reason, so no child is created or started after it (both are
/// conditional on a RUNNING parent); each child created and not yet counted is ended: FAILED here
/// if it never started, else its cancel noted and its instance terminated (the reactor records
/// it FAILED, never retried). Cancelling a cancelled array again ends what the first left.
extension Cancel {
    struct ArrayCancel {
        /// Children FAILED here, before they started.
        var unstarted: [String] = []
        /// Children whose instances are terminating, with their instance ids.
        var terminating: [(id: String, instanceID: String)] = []

        var json: [String: Any] {
            ["unstarted": unstarted, "terminating": terminating.map { ["id": $0.id, "instanceId": $0.instanceID] }]
        }
    }

    func cancelArray(_ parent: JobRecord, reason: String, store: JobStore, progress: Progress) throws -> ArrayCancel {
        if parent.state == .running {
            guard try store.cancelArray(parent, reason: reason) else { throw CommandError("job \(parent.id) moved on meanwhile; try again") }
            progress.stage("array \(parent.id) FAILED: \(reason); no further child is created")
            for case .failed(let dependent) in try store.resolveDependents(of: parent.id) {
                progress.stage("dependent \(dependent.id) (\(dependent.job)) FAILED: \(dependent.statusReason ?? "")")
            }
        }
        // Read after the parent's move: no child can be created after it, so `open` is complete.
        guard let (_, state) = try store.array(parent.id) else { return ArrayCancel() }
        if parent.state != .running, state.open.isEmpty { throw CommandError("job \(parent.id) has already ended: \(parent.state.rawValue)") }
        let ec2 = EC2(client: try target.client())
        var cancel = ArrayCancel()
        for index in state.open {
            let id = JobArrays.childID(parent.id, index)
            switch try endChild(id, reason: reason, store: store, ec2: ec2) {
            case .unstarted: cancel.unstarted.append(id)
            case .terminating(let instance): cancel.terminating.append((id, instance))
            case .ended: break
            }
        }
        progress.stage("\(cancel.unstarted.count) children FAILED before starting, \(cancel.terminating.count) instances terminating")
        return cancel
    }

    private enum ChildEnding { case unstarted, terminating(String), ended }

    /// Ends one child of a cancelled array. A child being started has no instance yet: it is
    /// read again until it has one (or its launch failed and it waits again, or it ended).
    private func endChild(_ id: String, reason: String, store: JobStore, ec2: EC2) throws -> ChildEnding {
        for _ in 0..<Self.startingPatience {
            guard let child = try store.record(id) else { return .ended }
            switch child.state {
            case .submitted, .pending, .runnable:
                if try store.cancelUnstarted(id, attempt: child.attempt, reason: reason), let failed = try store.record(id) {
                    _ = try store.countChild(failed)
                    return .unstarted
                }
            case .starting, .running:
                try store.noteCancel(id, attempt: child.attempt, reason: reason)
                if let instance = child.instanceID {
                    try ec2.terminateInstances([instance])
                    return .terminating(instance)
                }
            case .succeeded, .failed:
                // Its ending is the reactor's to count; a retry it decides never starts (the parent is not RUNNING).
                return .ended
            }
            Thread.sleep(forTimeInterval: 1)
        }
        throw CommandError("child \(id) was still starting without an instance after \(Self.startingPatience)s: run sortie cancel again to end it")
    }

    /// Seconds a child being launched is waited for.
    static let startingPatience = 60

    /// With --wait: each terminating child followed until the reactor has recorded its ending.
    func followChildren(_ cancel: ArrayCancel, store: JobStore, progress: Progress) throws {
        for child in cancel.terminating {
            progress.stage("waiting for child \(child.id)'s ending to be recorded")
            _ = try waiting.follow(child.id, store: store, progress: progress)
        }
    }
}
