import AWSCore
import AWSServices
import ArgumentParser
import DevEnvironment
import Foundation
import LocalAWS
import JobCancel
import JobCost
import JobModel
import JobStore
import WallTime

/// The deployment the operator commands act on, from the environment (`sortie dev` prints it):
/// `SORTIE_TABLE`, `SORTIE_LOG_GROUP` (`/sortie/jobs`), `SORTIE_LAUNCHER_FUNCTION` (`launcher`),
/// the AWS settings, and `SORTIE_DEV=1` when S3 events must be delivered by hand.
struct Target: ParsableArguments {
    @Flag(help: "Print JSON for scripts.")
    var json = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func client() throws -> AWSClient { try AWSClient.fromEnvironment() }

    func table() throws -> String {
        guard let table = environment["SORTIE_TABLE"], !table.isEmpty else {
            throw ValidationError("SORTIE_TABLE is not set (sortie dev prints the settings to export)")
        }
        return table
    }

    func store() throws -> JobStore {
        JobStore(dynamoDB: DynamoDB(client: try client()), table: try table())
    }

    func record(_ id: String) throws -> JobRecord {
        guard let record = try store().record(id) else { throw CommandError("no job \(id)") }
        return record
    }

    /// A job's record: its JSON, or its timeline; with `related`, what it waits for and what waits
    /// for it, and an array's children; with a `cost`, what each attempt and the job cost (`--json`: under `cost`).
    func show(_ record: JobRecord, related: Bool = false, cost: JobCost? = nil) throws {
        let links = related ? try DependencyLinks.read(record, store: store()) : nil
        let children = related ? try ArrayChildren.read(record, store: store()) : nil
        if json {
            return try emit(record.json.merging(links?.json ?? [:]) { $1 }.merging(children?.json ?? [:]) { $1 }.merging(cost.map { ["cost": $0.json] } ?? [:]) { $1 })
        }
        print(record.timeline)
        if let links { print(links.text, terminator: "") }
        if let children { print(children.text, terminator: "") }
        if let cost { print(cost.lines.joined(separator: "\n")) }
    }

    /// Prices for the deployment's region, kept in its table (`pricing:GetProducts`, `ec2:DescribeSpotPriceHistory`).
    func priceBook() throws -> PriceBook { PriceBook(client: try client(), table: try table()) }

    func emit(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A failure already explained: printed as is, exit status 1.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension JobRecord {
    var json: [String: Any] {
        var object: [String: Any] = [
            "id": id, "job": job, "attempt": attempt, "state": state.rawValue, "parameters": parameters, "submittedAt": submittedAt,
            "history": history.map { ["state": $0.state.rawValue, "at": $0.at, "reason": $0.reason ?? ""] },
        ]
        object["statusReason"] = statusReason
        object["instanceId"] = instanceID
        object["instanceType"] = instanceType
        object["market"] = market?.rawValue
        object["subnet"] = subnet
        object["exitCode"] = exitCode
        object["durationMs"] = durationMilliseconds
        if !dependsOn.isEmpty { object["dependsOn"] = dependsOn }
        if !dependents.isEmpty { object["dependents"] = dependents }
        if !overrides.isEmpty { object["overrides"] = overrides }
        if let arrayChild { object["arrayParent"] = arrayChild.parent; object["arrayIndex"] = arrayChild.index; object["arraySize"] = arrayChild.size }
        return object
    }

    static func time(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit a job through the launcher; prints its id.",
        discussion: "With --wait: follows the job to its end (a failed attempt that is retried is not the end) and prints its timeline (--json: its record); exits 0 if it SUCCEEDED, 1 if it FAILED, 75 if --timeout passed first.")

    @Argument(help: "The job's name (its published spec).")
    var job: String

    @Option(name: .customLong("arg"), help: "An argument, NAME=VALUE (repeatable).")
    var arguments: [String] = []

    @Option(name: .customLong("depends-on"), help: "The id of a job this one waits for: PENDING until all SUCCEEDED, FAILED if one FAILED (repeatable, up to 20).")
    var dependsOn: [String] = []

    @Option(help: "Submit an array job of this many children (2 to 10000), each its own instance with SORTIE_ARRAY_INDEX and SORTIE_ARRAY_SIZE.")
    var array: Int?

    @Flag(help: "With --array: each child starts after the one before it SUCCEEDED (AWS Batch's SEQUENTIAL dependency).")
    var sequential = false

    @Option(name: .customLong("n-to-n"), help: "With --array: the id of an array job of the same size; child i starts after its child i SUCCEEDED (N_TO_N, repeatable).")
    var nToN: [String] = []

    @Option(name: .customLong("override"), help: ArgumentHelp(
        "For this job only, what its spec's overrides: allow: no_shutdown=true, git_branch=BRANCH, instance_types=TYPE[,TYPE…], market=spot|on-demand, environment.NAME=VALUE (repeatable).",
        valueName: "NAME=VALUE"))
    var overrides: [String] = []

    @OptionGroup var waiting: WaitOptions
    @OptionGroup var target: Target
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let progress = progressOptions.reporter()
        defer { progress.close() }
        var fields: [String: Any] = ["job": job, "args": try Self.pairs(arguments, "--arg"), "id": UUID().uuidString.lowercased()]
        let typed: [Any] = (sequential ? [["type": JobArrays.DependencyType.sequential.rawValue]] : [])
            + nToN.map { ["id": $0, "type": JobArrays.DependencyType.nToN.rawValue] }
        if !dependsOn.isEmpty || !typed.isEmpty { fields["depends_on"] = dependsOn + typed }
        if let array { fields["array"] = array }
        if !overrides.isEmpty { fields["overrides"] = try Self.pairs(overrides, "--override") }
        let event = try JSONSerialization.data(withJSONObject: fields)
        let function = target.environment["SORTIE_LAUNCHER_FUNCTION"] ?? "launcher"
        progress.stage("submitting \(job) through \(function)")
        let output = try LambdaInvoke(client: try target.client()).invoke(functionName: function, payload: event, invocationType: .requestResponse)
        let answer = (try? JSONSerialization.jsonObject(with: output.payload)) as? [String: Any] ?? [:]
        if let error = output.functionError {
            throw CommandError("\(function) failed (\(error)): \(answer["errorMessage"] ?? String(decoding: output.payload, as: UTF8.self))")
        }
        if waiting.wait {
            guard let id = answer["jobId"] as? String else { throw CommandError("\(function) answered no job id: \(String(decoding: output.payload, as: UTF8.self))") }
            let record = try waiting.follow(id, store: try target.store(), progress: progress)
            try target.show(record)
            if record.state != .succeeded { throw ExitCode.failure }
            return
        }
        if target.json {
            print(String(decoding: output.payload, as: UTF8.self))
        } else {
            print("\(answer["outcome"] ?? "?") \(answer["jobId"] ?? "") \(answer["instanceId"].map { "on \($0)" } ?? "")")
        }
    }
}

extension Submit {
    /// `NAME=VALUE` options as a mapping; the value may hold `=`.
    static func pairs(_ options: [String], _ flag: String) throws -> [String: String] {
        var pairs: [String: String] = [:]
        for pair in options {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else { throw ValidationError("\(flag) takes NAME=VALUE, not '\(pair)'") }
            pairs[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return pairs
    }
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A job's timeline: every transition with its reason; the jobs it waits for and those waiting for it; what each attempt and the job cost on EC2.")

    @Argument(help: "The job's id.")
    var id: String

    @OptionGroup var target: Target

    func run() throws {
        guard let stored = try target.store().stored(id) else { throw CommandError("no job \(id)") }
        try target.show(stored.record, related: true, cost: JobCost(stored, prices: try target.priceBook(), now: WallClock.unixMilliseconds()))
    }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A job's step output (its current attempt), from CloudWatch Logs.")

    @Argument(help: "The job's id.")
    var id: String

    @Flag(help: "Keep printing until the job ends.")
    var follow = false

    @OptionGroup var target: Target

    func run() throws {
        let logs = CloudWatchLogs(client: try target.client())
        let group = target.environment["SORTIE_LOG_GROUP"] ?? "/sortie/jobs"
        var printed = 0
        while true {
            let record = try target.record(id)
            let stream = "\(record.job)/\(record.id)/attempt-\(record.attempt)"
            let events = (try? logs.getLogEvents(group: group, stream: stream)) ?? []
            for event in events.dropFirst(printed) {
                if target.json { try target.emit(["timestamp": event.timestamp, "message": event.message]) } else { print(event.message) }
            }
            printed = max(printed, events.count)
            guard follow, !record.state.isFinal else { return }
            Thread.sleep(forTimeInterval: 1)
        }
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a job: terminates its instance (the reactor records the ending) or ends it while it waits; an array's parent ends its children.",
        discussion: "With --wait: follows the job until its ending is recorded and prints its timeline (--json: its record); exits 0 once it has FAILED as cancelled, 1 if it SUCCEEDED before the cancel took hold, 75 if --timeout passed first. An array's parent is FAILED at once and no child is made after it; its unstarted children are FAILED, its running ones terminated (--wait follows them until recorded); cancelling it again ends what an interrupted cancel left.")

    @Argument(help: "The job's id.")
    var id: String

    @OptionGroup var waiting: WaitOptions
    @OptionGroup var target: Target
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let progress = progressOptions.reporter()
        defer { progress.close() }
        let store = try target.store()
        let record = try target.record(id)
        let canceller = JobCanceller(store: store, ec2: EC2(client: try target.client()), reason: "Cancelled by \(target.environment["USER"] ?? "an operator")")
        let outcome: JobCanceller.Outcome
        do {
            outcome = try canceller.cancel(record) { progress.stage($0) }
        } catch {
            throw CommandError(error.description)
        }
        switch outcome {
        case .keptInstanceTerminating(let instance):
            if target.json { return try target.emit(["id": id, "cancelled": false, "instanceId": instance, "terminated": true]) }
            print("job \(id) had already \(record.state.rawValue); its kept instance \(instance) is terminating")
            return
        case .array(let cancel):
            if waiting.wait {
                for child in cancel.terminating {
                    progress.stage("waiting for child \(child.id)'s ending to be recorded")
                    _ = try waiting.follow(child.id, store: store, progress: progress)
                }
                return try target.show(try target.record(id))
            }
            let children: [String: Any] = ["unstarted": cancel.unstarted, "terminating": cancel.terminating.map { ["id": $0.id, "instanceId": $0.instanceID] }]
            if target.json { return try target.emit(["id": id, "cancelled": true, "instanceId": NSNull(), "children": children]) }
            print("cancelled array \(id): \(cancel.unstarted.count) children FAILED before starting, \(cancel.terminating.count) instances terminating")
            return
        case .unstarted, .terminating:
            break
        }
        if waiting.wait {
            progress.stage("cancelled \(id); waiting for its ending to be recorded")
            let ended = try waiting.follow(id, store: store, progress: progress)
            try target.show(ended)
            if ended.state != .failed { throw CommandError("job \(id) \(ended.state.rawValue) before the cancel took hold") }
            return
        }
        if target.json { return try target.emit(["id": id, "cancelled": true, "instanceId": record.instanceID ?? NSNull()]) }
        print("cancelled \(id)\(record.instanceID.map { ": instance \($0) terminating" } ?? "")")
    }
}

struct Put: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Upload a file to S3; under sortie dev, also deliver S3's event to the bucket's functions.")

    @Argument(help: "The file.")
    var file: String

    @Argument(help: "s3://bucket/key (a key ending in / takes the file's name).")
    var destination: String

    @Option(help: "The repository (its functions/ say which functions a bucket triggers).")
    var repository = "."

    @OptionGroup var target: Target
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let progress = progressOptions.reporter()
        defer { progress.close() }
        let (bucket, path) = try S3Location.parse(destination, what: "the destination")
        let key = path.isEmpty || path.hasSuffix("/") ? path + URL(fileURLWithPath: file).lastPathComponent : path
        let client = try target.client()
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let parts = (fileSize + S3.defaultPartSize - 1) / S3.defaultPartSize
        progress.stage("uploading \(Progress.bytes(fileSize)) to s3://\(bucket)/\(key)\(fileSize > S3.defaultPartSize ? " in \(parts) parts" : "")")
        let uploaded = try S3(client: client).putFile(file, bucket: bucket, key: key) { sent, size in
            progress.update("\(Progress.bytes(sent)) / \(Progress.bytes(size)) (\(size == 0 ? 100 : sent * 100 / size)%)")
        }
        progress.stage("uploaded \(Progress.bytes(uploaded.size))\(uploaded.parts > 0 ? " in \(uploaded.parts) parts" : "")")
        var result: [String: Any] = ["bucket": bucket, "key": key, "size": uploaded.size, "parts": uploaded.parts]
        if target.environment["SORTIE_DEV"] == "1" {
            let definitions = try DevEnvironment.definitions(in: URL(fileURLWithPath: repository))
            let deliveries = try runBlocking {
                try await DevEnvironment.deliverObjectCreated(to: definitions, bucket: bucket, key: key, eTag: uploaded.eTag, size: uploaded.size) { function, event in
                    progress.stage("\(function) is handling S3's event")
                    return try await blocking {
                        try LambdaInvoke(client: client).invoke(functionName: function, payload: event, invocationType: .requestResponse).payload
                    }
                }
            }
            var delivered: [String: Any] = [:]
            for delivery in deliveries { delivered[delivery.function] = (try? JSONSerialization.jsonObject(with: delivery.response)) ?? NSNull() }
            result["delivered"] = delivered
        }
        progress.finish("put s3://\(bucket)/\(key)")
        if target.json { return try target.emit(result) }
        print("put s3://\(bucket)/\(key) (\(uploaded.size) bytes)")
        for (function, answer) in (result["delivered"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            let text = (try? JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys, .withoutEscapingSlashes])).map { String(decoding: $0, as: UTF8.self) } ?? ""
            print("  \(function): \(text)")
        }
    }
}

/// `s3://bucket/key` as the commands take it.
enum S3Location {
    static func parse(_ uri: String, what: String) throws -> (bucket: String, key: String) {
        guard uri.hasPrefix("s3://"), let slash = uri.dropFirst(5).firstIndex(of: "/"), slash > uri.dropFirst(5).startIndex else {
            throw ValidationError("\(what) must be s3://bucket/key, not '\(uri)'")
        }
        return (String(uri.dropFirst(5)[..<slash]), String(uri.dropFirst(5)[slash...].dropFirst()))
    }
}
