#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the launcher is asked to do, from either trigger:
///
/// - an EventBridge "Scheduled Event": the job is `detail.job`, or else the rule's (or
///   schedule's) name from `resources[0]`, less an optional `sortie-` prefix; arguments come
///   from `detail.args` (set with an input transformer, which keeps the event's `id`);
/// - a manual event `{"job": "...", "args": {...}}`, with an optional `id` to deduplicate on
///   (without one, the Lambda request id is used: Lambda keeps it across its own retries), and
///   `"dryRun": true` to check and plan without writing or launching (a dry run may carry the
///   job's `spec` itself, to try one before publishing it), `depends_on`: the ids of up to
///   20 jobs it waits for, and `overrides`: what of the spec it changes for this job, among
///   what the spec allows (`{"no_shutdown": true, "instance_types": ["c7i.large"], "environment": {"LEVEL": "debug"}}`);
///   `"array": N` makes it an array job, and `depends_on` may also hold Batch's typed entries
///   `{"type": "SEQUENTIAL"}` and `{"id": "<array's id>", "type": "N_TO_N"}`.
public struct LaunchEvent: Sendable, Equatable, Decodable {
    public enum Trigger: Sendable, Equatable {
        /// `rule` is the rule or schedule ARN.
        case schedule(rule: String, time: String?)
        case manual
    }

    public var job: String
    /// Argument values as text; JSON numbers and booleans are taken as written.
    public var arguments: [String: String]
    /// The idempotency key the event carries, if any.
    public var eventID: String?
    public var trigger: Trigger
    public var dryRun: Bool
    public var inlineSpec: SpecValue?
    /// The ids of the jobs it waits for (a manual event's `depends_on`).
    public var dependsOn: [String]
    /// A manual event's overrides by name, as text (`LaunchOverride`).
    public var overrides: [String: String]
    /// `"array": N`: an array job of N children (checked by the launcher, which names the limits).
    public var arraySize: Int?
    /// `{"type": "SEQUENTIAL"}` in `depends_on`: each child after the one before it.
    public var sequential: Bool
    /// `{"id": …, "type": "N_TO_N"}` entries of `depends_on`: child i after child i of each of these arrays.
    public var nToN: [String]

    public init(
        job: String, arguments: [String: String] = [:], eventID: String? = nil, trigger: Trigger = .manual, dryRun: Bool = false, inlineSpec: SpecValue? = nil,
        dependsOn: [String] = [], overrides: [String: String] = [:], arraySize: Int? = nil, sequential: Bool = false, nToN: [String] = []
    ) {
        self.job = job
        self.arguments = arguments
        self.eventID = eventID
        self.trigger = trigger
        self.dryRun = dryRun
        self.inlineSpec = inlineSpec
        self.dependsOn = dependsOn
        self.overrides = overrides
        self.arraySize = arraySize
        self.sequential = sequential
        self.nToN = nToN
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private static let manualKeys = ["job", "args", "id", "dryRun", "spec", "depends_on", "overrides", "array"]

    /// One entry of `depends_on`: an id, or Batch's `{"id": …, "type": "N_TO_N" | "SEQUENTIAL"}`.
    private enum Dependency: Decodable {
        case job(String)
        case typed(id: String?, JobArrays.DependencyType)

        init(from decoder: any Decoder) throws {
            if let id = try? decoder.singleValueContainer().decode(String.self) {
                self = .job(id)
                return
            }
            let container = try decoder.container(keyedBy: Key.self)
            let text = try container.decode(String.self, forKey: Key("type"))
            guard let type = JobArrays.DependencyType(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: Key("type"), in: container, debugDescription: "expected N_TO_N or SEQUENTIAL, got '\(text)'")
            }
            let id = try container.decodeIfPresent(String.self, forKey: Key("id"))
            guard (id == nil) == (type == .sequential) else {
                throw DecodingError.dataCorruptedError(
                    forKey: Key("id"), in: container, debugDescription: "N_TO_N names the id of an array job; SEQUENTIAL names none")
            }
            self = .typed(id: id, type)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        if container.contains(Key("detail-type")) {
            try self.init(scheduled: container)
            return
        }
        guard container.contains(Key("job")) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: #"expected an EventBridge Scheduled Event or a manual event {"job": "<name>", "args": {…}}"#))
        }
        if let unknown = container.allKeys.first(where: { !Self.manualKeys.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(
                forKey: unknown, in: container,
                debugDescription: "unknown field '\(unknown.stringValue)' in a manual event; expected \(Self.manualKeys.joined(separator: ", "))")
        }
        let dryRun = try container.decodeIfPresent(Bool.self, forKey: Key("dryRun")) ?? false
        let inlineSpec = try container.decodeIfPresent(SpecValue.self, forKey: Key("spec"))
        if inlineSpec != nil, !dryRun {
            throw DecodingError.dataCorruptedError(forKey: Key("spec"), in: container, debugDescription: "an inline spec is only for dry runs: publish the spec to launch it")
        }
        let entries = try container.decodeIfPresent([Dependency].self, forKey: Key("depends_on")) ?? []
        let dependsOn = entries.compactMap { if case .job(let id) = $0 { id } else { nil } }
        let nToN = entries.compactMap { if case .typed(let id?, .nToN) = $0 { id } else { nil } }
        guard entries.count <= JobDependencies.limit else {
            throw DecodingError.dataCorruptedError(
                forKey: Key("depends_on"), in: container, debugDescription: "depends_on names at most \(JobDependencies.limit) jobs, as AWS Batch allows; got \(entries.count)")
        }
        self.init(
            job: try container.decode(String.self, forKey: Key("job")), arguments: try Self.arguments(container, Key("args")),
            eventID: try container.decodeIfPresent(String.self, forKey: Key("id")), trigger: .manual, dryRun: dryRun, inlineSpec: inlineSpec,
            dependsOn: dependsOn, overrides: try Self.overrides(container, Key("overrides")),
            arraySize: try container.decodeIfPresent(Int.self, forKey: Key("array")),
            sequential: entries.contains { if case .typed(_, .sequential) = $0 { true } else { false } }, nToN: nToN)
    }

    private init(scheduled container: KeyedDecodingContainer<Key>) throws {
        let detailType = try container.decode(String.self, forKey: Key("detail-type"))
        guard detailType == "Scheduled Event" else {
            throw DecodingError.dataCorruptedError(forKey: Key("detail-type"), in: container, debugDescription: "expected \"Scheduled Event\", got \"\(detailType)\"")
        }
        eventID = try container.decode(String.self, forKey: Key("id"))
        let resources = try container.decodeIfPresent([String].self, forKey: Key("resources")) ?? []
        let detail = container.contains(Key("detail")) ? try container.nestedContainer(keyedBy: Key.self, forKey: Key("detail")) : nil
        let named = try detail?.decodeIfPresent(String.self, forKey: Key("job"))
        guard let job = named ?? resources.first.flatMap(Self.jobName(fromRule:)) else {
            throw DecodingError.dataCorruptedError(
                forKey: Key("resources"), in: container,
                debugDescription: "a Scheduled Event names its job in detail.job or by its rule's name in resources[0]")
        }
        self.job = job
        arguments = try detail.map { try Self.arguments($0, Key("args")) } ?? [:]
        trigger = .schedule(rule: resources.first ?? "", time: try container.decodeIfPresent(String.self, forKey: Key("time")))
        dryRun = false
        inlineSpec = nil
        dependsOn = []
        overrides = [:]
        arraySize = nil
        sequential = false
        nToN = []
    }

    /// `arn:aws:events:…:rule/sortie-nightly-etl` or `arn:aws:scheduler:…:schedule/group/nightly-etl` → `nightly-etl`.
    static func jobName(fromRule arn: String) -> String? {
        guard let name = arn.split(separator: "/").last.map(String.init), !name.isEmpty, arn.contains("/") else { return nil }
        return name.hasPrefix("sortie-") ? String(name.dropFirst("sortie-".count)) : name
    }

    /// Each override as text: a list (`instance_types`) comma-joined, an `environment` object one
    /// `environment.NAME` each; a scalar as `arguments` takes it.
    private static func overrides(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> [String: String] {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return [:] }
        let values = try container.nestedContainer(keyedBy: Key.self, forKey: key)
        var overrides: [String: String] = [:]
        for name in values.allKeys {
            if let list = try? values.decode([String].self, forKey: name) {
                overrides[name.stringValue] = list.joined(separator: ",")
            } else if name.stringValue == "environment", let variables = try? values.decode([String: String].self, forKey: name) {
                for (variable, value) in variables { overrides[LaunchOverride.environmentPrefix + variable] = value }
            } else {
                overrides[name.stringValue] = try scalar(values, name, what: "override '\(name.stringValue)' (or a list for instance_types, an object of texts for environment)")
            }
        }
        return overrides
    }

    private static func arguments(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws -> [String: String] {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return [:] }
        let values = try container.nestedContainer(keyedBy: Key.self, forKey: key)
        var arguments: [String: String] = [:]
        for name in values.allKeys { arguments[name.stringValue] = try scalar(values, name, what: "an argument's value") }
        return arguments
    }

    /// Text, a number or a boolean, as text; `what` names the value when it is none of those.
    private static func scalar(_ values: KeyedDecodingContainer<Key>, _ name: Key, what: String) throws -> String {
        if let text = try? values.decode(String.self, forKey: name) { return text }
        if let number = try? values.decode(Int64.self, forKey: name) { return String(number) }
        if let number = try? values.decode(Double.self, forKey: name) { return String(number) }
        if let flag = try? values.decode(Bool.self, forKey: name) { return String(flag) }
        throw DecodingError.dataCorruptedError(forKey: name, in: values, debugDescription: "\(what) must be text, a number or a boolean")
    }
}
