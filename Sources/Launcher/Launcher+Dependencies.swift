import AWSCore
import Logging
import JobLaunch
import JobModel
import JobStore
import WallTime
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Launcher {
    /// A new job's record: SUBMITTED, or PENDING when it waits for other jobs (`dependsOn`, ids);
    /// an array's parent that waits for none is RUNNING at once (its children take the slots).
    static func newRecord(
        _ spec: JobSpec, arguments: [String: String], eventID: String, dependsOn: [String], array: JobArray? = nil, reason: String
    ) throws(LaunchError) -> JobRecord {
        var ids: [String] = []
        for id in dependsOn where !ids.contains(id) { ids.append(id) }
        guard ids.count <= JobDependencies.limit else {
            throw .invalidDependencies("depends_on names \(ids.count) jobs; at most \(JobDependencies.limit) are allowed, as AWS Batch allows")
        }
        if let bad = ids.first(where: { $0.isEmpty || $0.utf8.count > 128 }) {
            throw .invalidDependencies("depends_on takes job ids, not '\(bad)'")
        }
        let now = WallClock.unixMilliseconds()
        var record = JobRecord(
            id: UUID().uuidString.lowercased(), job: spec.name, parameters: arguments, statusReason: reason, priority: spec.priority, submittedAt: now,
            eventID: eventID, dependsOn: ids, array: array)
        if let array, ids.isEmpty {
            let running = "Array of \(array.size) children\(array.sequential ? ", each after the one before it" : "")"
            record.state = .running
            record.statusReason = running
            record.history.append(.init(state: .running, at: now, reason: running))
        }
        if !ids.isEmpty {
            let waiting = JobDependencies.waitingReason(ids)
            record.state = .pending
            record.statusReason = waiting
            record.history.append(.init(state: .pending, at: now, reason: waiting))
        }
        return record
    }

    /// A PENDING job just recorded (or found again by a repeated event): its dependencies may
    /// have ended before it was, in which case no one else will look at it until the sweep.
    func resolvePending(_ record: JobRecord, _ spec: JobSpec, store: JobStore, logger: Logger, duplicate: Bool) throws(LaunchError) -> LaunchResponse {
        var known: [String: JobDependencies.Standing] = [:]
        let resolution = try starter.aws { () throws(AWSError) in try store.resolve(record.id, known: &known) }
        switch resolution {
        case .released(let runnable):
            logger.info("job \(runnable.id) \(runnable.state.rawValue): its dependencies succeeded", metadata: ["job": "\(spec.name)"])
            if runnable.array != nil { return try startArray(runnable, store: store, logger: logger, duplicate: duplicate) }
            return try starter.startOrQueue(runnable, spec, store: store, logger: logger, duplicate: duplicate)
        case .failed(let failed):
            logger.warning("job \(failed.id) FAILED: \(failed.statusReason ?? "")", metadata: ["job": "\(spec.name)"])
            starter.emit(JobMetrics.ending(failed, outcome: .failed, at: WallClock.unixMilliseconds()).rendered())
            starter.announce(failed, spec, logger: logger)
            // A repeated event's job may already have dependents of its own: they follow now, or at the sweep.
            if !failed.dependents.isEmpty {
                _ = try starter.aws { () throws(AWSError) in try store.resolveDependents(of: failed.id) }
            }
            return LaunchResponse(duplicate ? .duplicate : .failed, failed)
        case .waiting(let ids):
            logger.info("job \(record.id) PENDING on \(ids.joined(separator: ", "))", metadata: ["job": "\(spec.name)"])
            return LaunchResponse(duplicate ? .duplicate : .pending, record)
        case .unchanged(let current):
            return LaunchResponse(.duplicate, current ?? record)
        }
    }

    /// A scheduled job whose spec names `depends_on`: the chain of jobs it names (and they name
    /// in turn) is submitted with it, dependencies first, each once per event (its event id
    /// less `#<name>`), each waiting for the ids of the ones its spec names. Every spec is read
    /// and checked first: an unknown name, a cycle or bad arguments refuse the whole chain
    /// before anything is written.
    func launchChain(
        _ head: JobSpec, arguments: [String: String], event: LaunchEvent, eventID: String, store: JobStore, logger: Logger
    ) throws(LaunchError) -> LaunchResponse {
        guard let source = configuration.specs else { throw .configuration("SORTIE_SPECS is not set: no published specs to read") }
        var order: [JobSpec] = []
        var specs: [String: JobSpec] = [head.name: head]
        func visit(_ spec: JobSpec, path: [String]) throws(LaunchError) {
            guard !order.contains(where: { $0.name == spec.name }) else { return }
            for name in spec.dependsOn {
                if path.contains(name) {
                    throw .invalidDependencies("the depends_on of \(head.name)'s chain make a cycle: \((path + [name]).joined(separator: " → "))")
                }
                if specs[name] == nil {
                    guard let dependency = try source.spec(named: name, s3: starter.s3) else {
                        throw .invalidDependencies("'\(spec.name)' depends on '\(name)', which is not published in \(source)")
                    }
                    specs[name] = dependency
                }
                guard let dependency = specs[name] else { continue }
                if spec.nToN.contains(name), dependency.array?.size != spec.array?.size {
                    let what = dependency.array.map { "an array of \($0.size)" } ?? "not an array job"
                    throw .invalidDependencies("'\(spec.name)' waits N_TO_N on '\(name)', which is \(what): it must be an array of \(spec.array?.size ?? 0), as this one")
                }
                try visit(dependency, path: path + [name])
            }
            order.append(spec)
        }
        try visit(head, path: [head.name])

        // `order` ends with the head; the others first, each taking the event's arguments it declares.
        var ids: [String: String] = [:]
        let trigger = Self.describe(event.trigger)
        var members: [(spec: JobSpec, arguments: [String: String])] = []
        for member in order.dropLast() {
            do {
                members.append((member, try member.resolveArguments(event.arguments.filter { member.arguments[$0.key] != nil })))
            } catch {
                throw .invalidArguments(error)
            }
        }
        // A member waits whole for the jobs it names, child by child for its N_TO_N ones.
        func waits(_ spec: JobSpec) -> [String] { spec.dependsOn.filter { !spec.nToN.contains($0) }.compactMap { ids[$0] } }
        func array(_ spec: JobSpec) -> JobArray? {
            spec.array.map { JobArray(size: $0.size, sequential: $0.sequential, nToN: spec.nToN.compactMap { ids[$0] }) }
        }
        for (spec, memberArguments) in members {
            let submitted = try submit(
                spec, arguments: memberArguments, eventID: "\(eventID)#\(spec.name)", dependsOn: waits(spec),
                array: array(spec), reason: "Submitted by \(trigger), for \(head.name)'s chain", store: store, logger: logger)
            ids[spec.name] = submitted.jobID
        }
        return try submit(
            head, arguments: arguments, eventID: eventID, dependsOn: waits(head), array: array(head),
            reason: "Submitted by \(trigger)", store: store, logger: logger)
    }
}
