import AWSServices
import JobModel
import TableSchema

/// The job model's records as the table's items (the layout is `TableSchema`'s).
extension JobTable {
    /// How long finished records and seen events stay before DynamoDB's TTL removes them.
    public static let retentionSeconds: Int64 = 90 * 86_400

    /// Sorts higher priorities first (priority -1000…1000 → 2000…0000), then by submission.
    public static func queueKey(_ record: JobRecord) -> String {
        "\(padded(Int64(1000 - record.priority), 4))#\(padded(record.submittedAt, 13))#\(record.id)"
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
        item[.availabilityZone] = record.availabilityZone.map { .s($0) }
        if !record.overrides.isEmpty { item[.overrides] = .m(record.overrides.mapValues { .s($0) }) }
        if let array = record.array {
            item[.arraySize] = .number(array.size)
            if array.sequential { item[.arraySequential] = .bool(true) }
            if !array.nToN.isEmpty { item[.arrayNToN] = .l(array.nToN.map { .s($0) }) }
            item[.arrayCreated] = .number(0)
            item[.arraySucceeded] = .number(0)
            item[.arrayFailed] = .number(0)
        }
        if let child = record.arrayChild {
            item[.arrayParent] = .s(child.parent)
            item[.arrayIndex] = .number(child.index)
            item[.arraySize] = .number(child.size)
        }
        if record.state == .runnable {
            item.merge(queueAttributes(record)) { $1 }
        } else if record.state == .pending {
            item.merge(pendingAttributes(record)) { $1 }
        } else if record.state == .running, record.array != nil {
            item.merge(activeArrayAttributes(record)) { $1 }
        }
        return item
    }

    /// The sparse-index attributes that put a RUNNING array parent in `gsi2`'s `ARRAYS#ACTIVE` partition.
    public static func activeArrayAttributes(_ record: JobRecord) -> DynamoDB.Item {
        DynamoDB.Item().with([.gsi2pk: .s(activeArrays), .gsi2sk: .s(queueKey(record))])
    }

    /// The sparse-index attributes that put a RUNNABLE record in both queues.
    public static func queueAttributes(_ record: JobRecord) -> DynamoDB.Item {
        let key = AttributeValue.s(queueKey(record))
        return DynamoDB.Item().with([.gsi1pk: .s(kindQueue(record.job)), .gsi1sk: key, .gsi2pk: .s(globalQueue), .gsi2sk: key])
    }

    /// The sparse-index attributes that put a PENDING record in `gsi2`'s `PENDING` partition.
    public static func pendingAttributes(_ record: JobRecord) -> DynamoDB.Item {
        DynamoDB.Item().with([.gsi2pk: .s(pendingQueue), .gsi2sk: .s(queueKey(record))])
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
        var array: JobArray?
        var arrayChild: ArrayChild?
        if let size = item[.arraySize]?.int {
            if let parent = item[.arrayParent]?.string {
                arrayChild = ArrayChild(parent: parent, index: try required(.arrayIndex, item[.arrayIndex]?.int), size: size)
            } else {
                var nToN: [String] = []
                if case .l(let ids)? = item[.arrayNToN] {
                    for id in ids { nToN.append(try required(.arrayNToN, id.string, as: "\(Attribute.arrayNToN.rawValue)[]")) }
                }
                array = JobArray(size: size, sequential: item[.arraySequential] == .bool(true), nToN: nToN)
            }
        }
        return JobRecord(
            id: try required(.jobID, item[.jobID]?.string), job: try required(.job, item[.job]?.string), parameters: parameters,
            attempt: try required(.attempt, item[.attempt]?.int), state: state, statusReason: item[.statusReason]?.string,
            priority: item[.priority]?.int ?? 0, submittedAt: try required(.submittedAt, item[.submittedAt]?.int64),
            updatedAt: item[.updatedAt]?.int64, eventID: item[.eventID]?.string, instanceID: item[.instanceID]?.string,
            instanceType: item[.instanceType]?.string, heartbeatAt: item[.heartbeatAt]?.int64, exitCode: item[.exitCode]?.int,
            failingStep: item[.failingStep]?.string, reason: item[.reason]?.string, durationMilliseconds: item[.durationMs]?.int64,
            history: history, dependsOn: dependsOn, dependents: dependents, capacityShortSince: item[.capacityShortSince]?.int64,
            market: item[.market]?.string.flatMap(InstanceSpec.Market.init(rawValue:)), subnet: item[.subnet]?.string, overrides: overrides,
            availabilityZone: item[.availabilityZone]?.string, array: array, arrayChild: arrayChild)
    }
}
