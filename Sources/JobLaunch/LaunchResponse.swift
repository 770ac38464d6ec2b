import JobModel

/// What a launch did: `launched` (with the instance), `waiting` (RUNNABLE, with its place in
/// its kind's queue), `pending` (PENDING: waiting for the jobs it depends on), `failed` (one of
/// them had FAILED: so has this one, without launching), `duplicate` (the event was handled
/// before: here is its job now), or `dry-run` (what a launch would do).
public struct LaunchResponse: Sendable, Equatable, Encodable {
    public enum Outcome: String, Sendable, Encodable {
        case launched, waiting, pending, failed, duplicate
        case dryRun = "dry-run"
    }

    public var outcome: Outcome
    public var job: String
    public var jobID: String?
    public var attempt: Int?
    public var state: JobState?
    public var statusReason: String?
    public var instanceID: String?
    public var instanceType: String?
    /// The market the instance was launched in; a dry run's: the spec's.
    public var market: String?
    /// 1 for the next of its kind to start.
    public var position: Int?
    /// The ids of the jobs it waits for.
    public var dependsOn: [String]?
    /// An array job's size (the id is its parent's; `launched`: its first children started).
    public var arraySize: Int?
    // Dry runs only:
    public var arguments: [String: String]?
    public var instanceTypes: [String]?
    public var maxConcurrency: Int?
    public var userDataBytes: Int?
    /// Settings a real launch needs that the launcher does not have.
    public var missingSettings: [String]?

    /// The response's keys, as callers read them.
    enum CodingKeys: String, CodingKey {
        case outcome, job, jobID = "jobId", attempt, state, statusReason, instanceID = "instanceId", instanceType, market, position, dependsOn, arraySize
        case arguments, instanceTypes, maxConcurrency, userDataBytes, missingSettings
    }

    package init(_ outcome: Outcome, _ record: JobRecord, position: Int? = nil) {
        self.outcome = outcome
        job = record.job
        jobID = record.id
        attempt = record.attempt
        state = record.state
        statusReason = record.statusReason
        instanceID = record.instanceID
        instanceType = record.instanceType
        market = record.market?.rawValue
        self.position = position
        dependsOn = record.dependsOn.isEmpty ? nil : record.dependsOn
        arraySize = record.array?.size
    }

    package init(plan spec: JobSpec, arguments: [String: String], userDataBytes: Int?, missingSettings: [String]) {
        outcome = .dryRun
        job = spec.name
        self.arguments = arguments
        instanceTypes = spec.instance.types
        market = spec.instance.market.rawValue
        maxConcurrency = spec.maxConcurrency
        self.userDataBytes = userDataBytes
        self.missingSettings = missingSettings
    }
}
