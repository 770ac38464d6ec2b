import AWSCore
import AWSServices
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

/// Turns launch requests into EC2 instances: at most once per event, within each kind's
/// `max_concurrency` and the global limit, queueing (never dropping) what does not fit.
/// Each job is started (or queued) by a `JobStarter`, which the reactor uses too.
public struct Launcher: Sendable {
    public let starter: JobStarter
    public var configuration: LauncherConfiguration { starter.configuration }

    /// `emit` writes a metrics line as-is (see `JobStarter.emit`).
    public init(configuration: LauncherConfiguration, client: AWSClient, emit: @escaping @Sendable (String) -> Void) {
        starter = JobStarter(configuration: configuration, client: client, emit: emit)
    }

    /// `requestID` deduplicates manual events that carry no `id` (Lambda keeps it across its retries).
    public func launch(_ event: LaunchEvent, requestID: String, logger: Logger) throws(LaunchError) -> LaunchResponse {
        let spec: JobSpec
        let published = try self.spec(for: event)
        do {
            try published.checkAllowed(event.overrides)
            spec = try published.applying(event.overrides)
        } catch {
            throw .invalidOverrides(error)
        }
        let arguments: [String: String]
        do {
            arguments = try spec.resolveArguments(event.arguments)
        } catch {
            throw .invalidArguments(error)
        }
        if event.dryRun { return try plan(spec, arguments) }
        guard configuration.missing.isEmpty else {
            throw .configuration("not set: \(configuration.missing.joined(separator: ", "))")
        }
        let store = try starter.store()
        let eventID = event.eventID ?? "request:\(requestID)"
        if case .schedule = event.trigger, !spec.dependsOn.isEmpty {
            return try launchChain(spec, arguments: arguments, event: event, eventID: eventID, store: store, logger: logger)
        }
        return try submit(
            spec, arguments: arguments, eventID: eventID, dependsOn: event.dependsOn, overrides: event.overrides,
            array: try array(for: event, spec: spec, store: store), reason: "Submitted by \(Self.describe(event.trigger))", store: store, logger: logger)
    }

    /// Records one job, once per event, then starts or queues it, or (with dependencies) leaves it PENDING.
    func submit(
        _ spec: JobSpec, arguments: [String: String], eventID: String, dependsOn: [String], overrides: [String: String] = [:], array: JobArray?,
        reason: String, store: JobStore, logger: Logger
    ) throws(LaunchError) -> LaunchResponse {
        var record = try Self.newRecord(spec, arguments: arguments, eventID: eventID, dependsOn: dependsOn, array: array, reason: reason)
        record.overrides = overrides
        // Rendered before anything is written: a script over EC2's limit must leave no trace.
        _ = try starter.userData(record, spec)

        let submitted: JobRecord
        switch try starter.aws({ () throws(AWSError) in try store.submit(record, eventID: eventID) }) {
        case .created(let created):
            logger.info("job \(created.id) \(created.state.rawValue)", metadata: ["job": "\(spec.name)", "event": "\(eventID)"])
            submitted = created
        case .duplicate(let jobID):
            guard let existing = try starter.aws({ () throws(AWSError) in try store.record(jobID) }) else {
                throw .aws(AWSError(kind: .invalidResponse, service: "DynamoDB", operation: "GetItem", code: "MissingJobRecord", message: "event \(eventID) names job \(jobID), which has no record"))
            }
            logger.info("event \(eventID) seen before: job \(jobID) is \(existing.state.rawValue)")
            // A delivery that stopped right after submitting left the job SUBMITTED (or PENDING):
            // carry on with it. Conditional writes make sure only one delivery moves it on.
            let arrayUnderWay = existing.array != nil && existing.state == .running
            guard existing.state == .submitted || existing.state == .pending || arrayUnderWay else { return LaunchResponse(.duplicate, existing) }
            submitted = existing
        case .unknownDependencies(let ids):
            throw .invalidDependencies("no job \(ids.joined(separator: ", ")) to depend on: depends_on takes the ids of submitted jobs")
        }
        let duplicate = submitted.id != record.id
        if submitted.array != nil, submitted.state == .running { return try startArray(submitted, store: store, logger: logger, duplicate: duplicate) }
        guard submitted.state == .pending else { return try starter.startOrQueue(submitted, spec, store: store, logger: logger, duplicate: duplicate) }
        return try resolvePending(submitted, spec, store: store, logger: logger, duplicate: duplicate)
    }

    // MARK: Parts

    func spec(for event: LaunchEvent) throws(LaunchError) -> JobSpec {
        if let inline = event.inlineSpec {
            do {
                return try JobSpec.read(inline)
            } catch {
                throw .invalidSpec(job: event.job, error)
            }
        }
        guard let source = configuration.specs else { throw .configuration("SORTIE_SPECS is not set: no published specs to read") }
        guard let spec = try source.spec(named: event.job, s3: starter.s3) else { throw .unknownJob(event.job, source: "\(source)") }
        return spec
    }

    private func plan(_ spec: JobSpec, _ arguments: [String: String]) throws(LaunchError) -> LaunchResponse {
        var size: Int?
        if starter.reporting != nil, configuration.runnerURL != nil {
            let record = JobRecord(id: UUID().uuidString.lowercased(), job: spec.name, parameters: arguments, submittedAt: WallClock.unixMilliseconds())
            size = try starter.userData(record, spec).utf8.count
        }
        return LaunchResponse(plan: spec, arguments: arguments, userDataBytes: size, missingSettings: configuration.missing)
    }

    static func describe(_ trigger: LaunchEvent.Trigger) -> String {
        switch trigger {
        case .schedule(let rule, let time): "schedule \(rule)\(time.map { " at \($0)" } ?? "")"
        case .manual: "manual event"
        }
    }
}
