import AWSServices
import JobModel
import WallTime

/// The layout of the job model's items in the deployment's table (`pk`/`sk` strings, TTL
/// attribute `expiresAt`). JobStore owns these key prefixes and the `gsi1`/`gsi2` indexes:
///
/// | item | pk | sk | attributes |
/// | --- | --- | --- | --- |
/// | job record | `JOB#<id>` | `JOB` | the `JobRecord` fields; `gsi1pk`/`gsi1sk` and `gsi2pk`/`gsi2sk` only while RUNNABLE, `gsi2pk`/`gsi2sk` while PENDING; `dependsOn` (a list of ids), `dependents` (a string set of ids) |
/// | event seen | `EVENT#<event id>` | `EVENT` | `jobId`, `job`, `receivedAt`, `expiresAt` |
/// | a kind's slots | `SLOTS#<job name>` | `SLOTS` | `holders`: the ids of its STARTING and RUNNING jobs (a string set) |
/// | global slots | `SLOTS` | `SLOTS` | `holders`: every STARTING and RUNNING job id |
///
/// The queues are sparse indexes: `gsi1` (`QUEUE#<job name>`) holds one kind's waiting jobs and
/// `gsi2` (`QUEUE`) all of them, both sorted by `queueKey`: higher priority first, then oldest.
/// `gsi2`'s `PENDING` partition holds the jobs waiting for their dependencies, for the sweep.
public struct JobTable: Sendable {
    public var name: String

    public init(name: String) {
        self.name = name
    }

    /// The table as `sortie dev` and the tests create it; TTL goes on `ttlAttribute`.
    public static func definition(_ name: String) -> DynamoDB.CreateTableInput {
        DynamoDB.CreateTableInput(tableName: name, partitionKey: Attribute.pk.rawValue, sortKey: Attribute.sk.rawValue, globalSecondaryIndexes: [
            .init(name: kindQueueIndex, partitionKey: Attribute.gsi1pk.rawValue, sortKey: Attribute.gsi1sk.rawValue),
            .init(name: globalQueueIndex, partitionKey: Attribute.gsi2pk.rawValue, sortKey: Attribute.gsi2sk.rawValue),
        ])
    }

    /// Every attribute of the job model's items, by the name it is stored under: the one place
    /// these names are spelled (a test greps the rest of the code for them).
    public enum Attribute: String, CaseIterable, Sendable {
        case pk, sk
        /// The index keys: a waiting job's queue places (`JobTable.queueKey`).
        case gsi1pk, gsi1sk, gsi2pk, gsi2sk
        /// DynamoDB's TTL attribute (epoch seconds).
        case expiresAt
        // A job record: the `JobRecord` fields.
        case jobID = "jobId", job, parameters, attempt, state, priority, submittedAt, updatedAt, history, statusReason, eventID = "eventId"
        case instanceID = "instanceId", instanceType, heartbeatAt, exitCode, failingStep, reason, durationMs
        /// A dependent's list of the ids it waits for, and a dependency's set of the ids waiting for it.
        case dependsOn, dependents
        /// When EC2 first refused the current attempt for capacity (epoch milliseconds).
        case capacityShortSince
        /// The market (`spot`, `on-demand`) and subnet the current attempt was launched in.
        case market, subnet
        /// A manual submission's overrides of its spec (a map of texts by override name).
        case overrides
        /// When an ended attempt's outcome was decided: no retry follows. Written by the reactor,
        /// and with the FAILED state itself when an attempt ends with no instance to react to.
        case settledAt
        /// A retry's earliest start (epoch milliseconds, as `WallClock.unixMilliseconds()`): a waiting job is due once it has passed.
        case notBefore
        /// When EC2 warned that the attempt's spot instance is about to be reclaimed.
        case interruptionWarnedAt
        /// One summary per earlier attempt (`attempt`, `exitCode`, `failingStep`, `reason`, `statusReason`, `instanceId`, `log`).
        case attempts
        /// Where the runner put the attempt's full log (S3), and its CloudWatch Logs group and stream.
        case logUri, logStream
        /// An operator's cancel of a started attempt.
        case cancelRequestedAt, cancelReason
        /// An event item's arrival.
        case receivedAt
        /// A slots item's holders (a string set of job ids).
        case holders
        /// Fields of `history` entries (with `state`, `reason`) and of `attempts` summaries.
        case at, log
    }

    public static let ttlAttribute = Attribute.expiresAt.rawValue
    public static let kindQueueIndex = "gsi1"
    public static let globalQueueIndex = "gsi2"
    /// How long finished records and seen events stay before DynamoDB's TTL removes them.
    public static let retentionSeconds: Int64 = 90 * 86_400

    public static func jobKey(_ id: String) -> DynamoDB.Item { key("JOB#\(id)", "JOB") }
    public static func eventKey(_ eventID: String) -> DynamoDB.Item { key("EVENT#\(eventID)", "EVENT") }
    public static func slotsKey(job: String) -> DynamoDB.Item { key("SLOTS#\(job)", "SLOTS") }
    public static let globalSlotsKey: DynamoDB.Item = key("SLOTS", "SLOTS")

    private static func key(_ partition: String, _ sort: String) -> DynamoDB.Item {
        [Attribute.pk.rawValue: .s(partition), Attribute.sk.rawValue: .s(sort)]
    }
    public static func kindQueue(_ job: String) -> String { "QUEUE#\(job)" }
    public static let globalQueue = "QUEUE"
    /// `gsi2`'s partition of PENDING jobs.
    public static let pendingQueue = "PENDING"

    /// Sorts higher priorities first (priority -1000…1000 → 2000…0000), then by submission.
    public static func queueKey(_ record: JobRecord) -> String {
        "\(padded(Int64(1000 - record.priority), 4))#\(padded(record.submittedAt, 13))#\(record.id)"
    }

    private static func padded(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // MARK: Records as items

    public static func item(_ record: JobRecord) -> DynamoDB.Item {
        var item = jobKey(record.id)
        item[.jobID] = .s(record.id)
        item[.job] = .s(record.job)
        item[.parameters] = .m(record.parameters.mapValues { .s($0) })
        item[.attempt] = .number(record.attempt)
        item[.state] = .s(record.state.rawValue)
        item[.priority] = .number(record.priority)
        item[.submittedAt] = .number(record.submittedAt)
        item[.updatedAt] = .number(record.updatedAt)
        item[.history] = .l(record.history.map(value))
        item[.statusReason] = record.statusReason.map { .s($0) }
        item[.eventID] = record.eventID.map { .s($0) }
        item[.instanceID] = record.instanceID.map { .s($0) }
        item[.instanceType] = record.instanceType.map { .s($0) }
        item[.heartbeatAt] = record.heartbeatAt.map { .number($0) }
        item[.exitCode] = record.exitCode.map { .number($0) }
        item[.failingStep] = record.failingStep.map { .s($0) }
        item[.reason] = record.reason.map { .s($0) }
        item[.durationMs] = record.durationMilliseconds.map { .number($0) }
        if !record.dependsOn.isEmpty { item[.dependsOn] = .l(record.dependsOn.map { .s($0) }) }
        if !record.dependents.isEmpty { item[.dependents] = .ss(record.dependents) }
        item[.capacityShortSince] = record.capacityShortSince.map { .number($0) }
        item[.market] = record.market.map { .s($0.rawValue) }
        item[.subnet] = record.subnet.map { .s($0) }
        if !record.overrides.isEmpty { item[.overrides] = .m(record.overrides.mapValues { .s($0) }) }
        if record.state == .runnable {
            item.merge(queueAttributes(record)) { $1 }
        } else if record.state == .pending {
            item.merge(pendingAttributes(record)) { $1 }
        }
        return item
    }

    /// The sparse-index attributes that put a RUNNABLE record in both queues.
    public static func queueAttributes(_ record: JobRecord) -> DynamoDB.Item {
        let key = AttributeValue.s(queueKey(record))
        return [Attribute.gsi1pk.rawValue: .s(kindQueue(record.job)), Attribute.gsi1sk.rawValue: key, Attribute.gsi2pk.rawValue: .s(globalQueue), Attribute.gsi2sk.rawValue: key]
    }

    /// The sparse-index attributes that put a PENDING record in `gsi2`'s `PENDING` partition.
    public static func pendingAttributes(_ record: JobRecord) -> DynamoDB.Item {
        [Attribute.gsi2pk.rawValue: .s(pendingQueue), Attribute.gsi2sk.rawValue: .s(queueKey(record))]
    }

    static func value(_ transition: JobRecord.Transition) -> AttributeValue {
        var entry: DynamoDB.Item = [:]
        entry[.state] = .s(transition.state.rawValue)
        entry[.at] = .number(transition.at)
        entry[.reason] = transition.reason.map { .s($0) }
        return .m(entry)
    }

    public struct MalformedItem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func record(_ item: DynamoDB.Item) throws(MalformedItem) -> JobRecord {
        func required<T>(_ name: Attribute, _ value: T?, as field: String? = nil) throws(MalformedItem) -> T {
            guard let value else {
                throw MalformedItem(description: "job record \(item[.pk]?.string ?? "?") lacks a valid '\(field ?? name.rawValue)'")
            }
            return value
        }
        let state = try required(.state, item[.state]?.string.flatMap(JobState.init(rawValue:)))
        var parameters: [String: String] = [:]
        if case .m(let map)? = item[.parameters] {
            for (key, value) in map { parameters[key] = try required(.parameters, value.string, as: "\(Attribute.parameters.rawValue).\(key)") }
        }
        var history: [JobRecord.Transition] = []
        if case .l(let entries)? = item[.history] {
            for case .m(let entry) in entries {
                history.append(JobRecord.Transition(
                    state: try required(.state, entry[.state]?.string.flatMap(JobState.init(rawValue:)), as: "\(Attribute.history.rawValue).\(Attribute.state.rawValue)"),
                    at: try required(.at, entry[.at]?.int64, as: "\(Attribute.history.rawValue).\(Attribute.at.rawValue)"), reason: entry[.reason]?.string))
            }
        }
        var overrides: [String: String] = [:]
        if case .m(let map)? = item[.overrides] {
            for (key, value) in map { overrides[key] = try required(.overrides, value.string, as: "\(Attribute.overrides.rawValue).\(key)") }
        }
        var dependsOn: [String] = []
        if case .l(let ids)? = item[.dependsOn] {
            for id in ids { dependsOn.append(try required(.dependsOn, id.string, as: "\(Attribute.dependsOn.rawValue)[]")) }
        }
        var dependents: [String] = []
        if case .ss(let ids)? = item[.dependents] { dependents = ids.sorted() }
        return JobRecord(
            id: try required(.jobID, item[.jobID]?.string), job: try required(.job, item[.job]?.string), parameters: parameters,
            attempt: try required(.attempt, item[.attempt]?.int), state: state, statusReason: item[.statusReason]?.string,
            priority: item[.priority]?.int ?? 0, submittedAt: try required(.submittedAt, item[.submittedAt]?.int64),
            updatedAt: item[.updatedAt]?.int64, eventID: item[.eventID]?.string, instanceID: item[.instanceID]?.string,
            instanceType: item[.instanceType]?.string, heartbeatAt: item[.heartbeatAt]?.int64, exitCode: item[.exitCode]?.int,
            failingStep: item[.failingStep]?.string, reason: item[.reason]?.string, durationMilliseconds: item[.durationMs]?.int64,
            history: history, dependsOn: dependsOn, dependents: dependents, capacityShortSince: item[.capacityShortSince]?.int64,
            market: item[.market]?.string.flatMap(InstanceSpec.Market.init(rawValue:)), subnet: item[.subnet]?.string, overrides: overrides)
    }
}

extension DynamoDB.Item {
    /// An attribute by its typed name: how the job model's items are read and written.
    public subscript(_ attribute: JobTable.Attribute) -> AttributeValue? {
        get { self[attribute.rawValue] }
        set { self[attribute.rawValue] = newValue }
    }
}

extension AttributeValue {
    var int64: Int64? { if case .n(let value) = self { Int64(value) } else { nil } }
}
