import AWSServices
import Foundation
import JobSpecYAML
import JobModel
import JobStore
import TableSchema
import Testing

@Suite("Dependencies in the job model")
struct DependencyModelTests {
    private let minimal = """
        name: load
        instance: {types: [t3.micro], image: ami-0123456789abcdef0}
        steps: [{name: a, run: "true"}]
        timeout: 1h
        """

    @Test("a spec's depends_on: job names, at most 20, not itself, not twice; the published JSON carries it")
    func specDependsOn() throws {
        let spec = try JobSpecYAML.spec(yaml: minimal + "\ndepends_on: [extract, transform]\n", file: "inline")
        #expect(spec.dependsOn == ["extract", "transform"])
        #expect(try JSONDecoder().decode(JobSpec.self, from: try JSONEncoder().encode(spec)) == spec)
        let many = (0...20).map { "job\($0)" }.joined(separator: ", ")
        for (text, field, message) in [
            ("[Bad Name]", "depends_on[0]", "expected a job's name"), ("[load]", "depends_on[0]", "cannot depend on itself"),
            ("[a, a]", "depends_on[1]", "'a' is already listed"), ("[\(many)]", "depends_on", "at most 20"),
        ] {
            do {
                _ = try JobSpecYAML.spec(yaml: minimal + "\ndepends_on: \(text)\n", file: "inline")
                Issue.record("accepted depends_on: \(text)")
            } catch {
                #expect(error.issues.map(\.field) == [field] && error.description.contains(message), "\(error)")
            }
        }
    }

    @Test("a spec's depends_on entry {job, type: N_TO_N} names an array waited for child by child; it needs an array of its own; the JSON round-trips")
    func specNToN() throws {
        let text = minimal + "\narray: {size: 4}\ndepends_on: [extract, {job: shards, type: N_TO_N}]\n"
        let spec = try JobSpecYAML.spec(yaml: text, file: "inline")
        #expect(spec.dependsOn == ["extract", "shards"] && spec.nToN == ["shards"])
        let json = try JSONEncoder().encode(spec)
        #expect(String(decoding: json, as: UTF8.self).contains(#""depends_on":["extract",{"#))
        #expect(try JSONDecoder().decode(JobSpec.self, from: json) == spec)
        for (yaml, field, message) in [
            (minimal + "\ndepends_on: [{job: shards, type: N_TO_N}]\n", "depends_on", "needs an array"),
            (minimal + "\narray: {size: 4}\ndepends_on: [{job: shards, type: SEQUENTIAL}]\n", "depends_on[0].type", "expected N_TO_N"),
            (minimal + "\narray: {size: 4}\ndepends_on: [{job: shards}]\n", "depends_on[0].type", "missing"),
            (minimal + "\narray: {size: 4}\ndepends_on: [{job: shards, type: N_TO_N, size: 2}]\n", "depends_on[0].size", "unknown key 'size'"),
        ] {
            do {
                _ = try JobSpecYAML.spec(yaml: yaml, file: "inline")
                Issue.record("accepted: \(yaml)")
            } catch {
                #expect(error.issues.map(\.field) == [field] && error.description.contains(message), "\(error)")
            }
        }
    }

    @Test("a manual event's depends_on: up to 20 ids; a scheduled event has none")
    func eventDependsOn() throws {
        let event = try JSONDecoder().decode(LaunchEvent.self, from: Data(#"{"job":"x","depends_on":["a1","b2"]}"#.utf8))
        #expect(event.dependsOn == ["a1", "b2"])
        let ids = (0...20).map { "\"id\($0)\"" }.joined(separator: ",")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LaunchEvent.self, from: Data(#"{"job":"x","depends_on":[\#(ids)]}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LaunchEvent.self, from: Data(#"{"job":"x","depends_on":"a1"}"#.utf8)) }
    }

    @Test("a PENDING record round-trips with both directions and sits in gsi2's PENDING partition, not in the queues")
    func pendingItem() throws {
        var record = JobRecord(id: "b", job: "transform", parameters: [:], state: .pending, submittedAt: 1_700_000_000_000, dependsOn: ["a", "z"], dependents: ["c"])
        let item = JobTable.item(record)
        #expect(item["gsi2pk"] == .s(JobTable.pendingQueue) && item["gsi1pk"] == nil)
        #expect(item[.dependsOn] == .l([.s("a"), .s("z")]) && item[.dependents] == .ss(["c"]))
        #expect(try JobTable.record(item) == record)
        record.dependsOn = []
        record.dependents = []
        #expect(JobTable.item(record)[.dependsOn] == nil && JobTable.item(record)[.dependents] == nil)
        #expect(JobState.pending.successors == [.runnable, .running, .failed] && JobState.submitted.successors.contains(.pending))
    }

    @Test("the verdict: any failure decides (naming it), else the unfinished keep it waiting, else it is released")
    func verdict() {
        typealias S = JobDependencies.Standing
        #expect(JobDependencies.verdict([("a", S.succeeded), ("b", S.succeeded)]) == .release)
        #expect(JobDependencies.verdict([("a", S.succeeded), ("b", S.unfinished)]) == .wait(["b"]))
        #expect(JobDependencies.verdict([("a", S.unfinished), ("b", S.failed(reason: "Dependency x b FAILED: boom"))]) == .fail(reason: "Dependency x b FAILED: boom"))
        #expect(JobDependencies.verdict([("a", S.failed(reason: "A")), ("b", S.failed(reason: "B"))]) == .fail(reason: "A (and 1 more of its dependencies)"))
    }
}
