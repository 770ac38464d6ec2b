import AWSCore
import AWSServices
import JobModel
import JobStore
#if canImport(Glibc)
import Glibc
#endif

/// A cancel of an array's parent, as Batch's TerminateJob on one: the parent FAILED at once with
/// the cancel's reason, so no child is created or started after it (both are conditional on a
/// RUNNING parent); each child created and not yet counted is ended: FAILED here if it never
/// started, else its cancel noted and its instance terminated. Cancelling a cancelled array
/// again ends what the first left.
extension JobCanceller {
    public struct ArrayCancel: Sendable, Equatable {
        /// Children FAILED here, before they started.
        public var unstarted: [String] = []
        /// Children whose instances are terminating.
        public var terminating: [Terminating] = []

        public struct Terminating: Sendable, Equatable {
            public var id: String
            public var instanceID: String
        }
    }

    func cancelArray(_ parent: JobRecord, stage: (String) -> Void) throws(CancelError) -> ArrayCancel {
        if parent.state == .running {
            guard try aws({ () throws(AWSError) in try store.cancelArray(parent, reason: reason) }) else { throw .movedOn(id: parent.id) }
            stage("array \(parent.id) FAILED: \(reason); no further child is created")
            _ = try failDependents(of: parent.id, stage: stage)
        }
        // Read after the parent's move: no child can be created after it, so `open` is complete.
        guard let (_, progress) = try aws({ () throws(AWSError) in try store.array(parent.id) }) else { return ArrayCancel() }
        if parent.state != .running, progress.open.isEmpty { throw .alreadyEnded(id: parent.id, state: parent.state) }
        var cancel = ArrayCancel()
        for index in progress.open {
            let id = JobArrays.childID(parent.id, index)
            switch try endChild(id) {
            case .unstarted: cancel.unstarted.append(id)
            case .terminating(let instance): cancel.terminating.append(.init(id: id, instanceID: instance))
            case .ended: break
            }
        }
        stage("\(cancel.unstarted.count) children FAILED before starting, \(cancel.terminating.count) instances terminating")
        return cancel
    }

    private enum ChildEnding { case unstarted, terminating(String), ended }

    /// Ends one child of a cancelled array. A child being started has no instance yet: it is
    /// read again, once a second, until it has one (or its launch failed and it waits again, or it ended).
    private func endChild(_ id: String) throws(CancelError) -> ChildEnding {
        for _ in 0..<Self.startingPatience {
            guard let child = try aws({ () throws(AWSError) in try store.record(id) }) else { return .ended }
            switch child.state {
            case .submitted, .pending, .runnable:
                if try aws({ () throws(AWSError) in try store.cancelUnstartedChild(id, attempt: child.attempt, reason: reason) }) != nil {
                    return .unstarted
                }
            case .starting, .running:
                try aws { () throws(AWSError) in try store.noteCancel(id, attempt: child.attempt, reason: reason) }
                if let instance = child.instanceID {
                    _ = try aws { () throws(AWSError) in try ec2.terminateInstances([instance]) }
                    return .terminating(instance)
                }
            case .succeeded, .failed:
                // Its ending is the reactor's to count; a retry it decides never starts (the parent is not RUNNING).
                return .ended
            }
            sleep(1)
        }
        throw .childStillStarting(id: id, seconds: Self.startingPatience)
    }

    /// Seconds a child being launched is waited for.
    static let startingPatience = 60
}
