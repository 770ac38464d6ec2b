import Foundation
import AWSServices
import JobModel
import JobSpecYAML
import JobStore
import SortieTestSupport
import TableSchema
import Testing

@Suite("Array jobs in the model")
struct ArrayModelTests {
    private func decode(_ json: String) throws -> LaunchEvent { try JSONDecoder().decode(LaunchEvent.self, from: Data(json.utf8)) }

    @Test("a manual event's array and Batch's typed depends_on entries beside plain ids")
    func events() throws {
        let event = try decode(#"{"job":"fan","array":5,"depends_on":["a1",{"type":"SEQUENTIAL"},{"id":"b2","type":"N_TO_N"}]}"#)
        #expect(event.arraySize == 5 && event.sequential && event.nToN == ["b2"] && event.dependsOn == ["a1"])
        let plain = try decode(#"{"job":"fan"}"#)
        #expect(plain.arraySize == nil && !plain.sequential && plain.nToN.isEmpty)
        for bad in [
            #"{"job":"fan","array":"five"}"#, #"{"job":"fan","depends_on":[{"type":"ALL"}]}"#,
            #"{"job":"fan","depends_on":[{"type":"N_TO_N"}]}"#, #"{"job":"fan","depends_on":[{"id":"x","type":"SEQUENTIAL"}]}"#,
        ] {
            #expect(throws: DecodingError.self, "\(bad)") { try decode(bad) }
        }
    }

    @Test("a spec's array: its size and SEQUENTIAL, published and read back")
    func spec() throws {
        let spec = try JobSpecYAML.load(path: Repository.root.appendingPathComponent("Tests/Fixtures/jobs/valid/fan-out.yaml").path)
        #expect(spec.array == JobSpec.ArraySpec(size: 16, sequential: true))
        let json = String(decoding: try JSONEncoder.sorted.encode(spec), as: UTF8.self)
        #expect(json.contains(#""array":{"dependency":"SEQUENTIAL","size":16}"#), "\(json)")
    }

    @Test("children's ids, what each waits for, the sizes allowed, and the parent's verdict")
    func rules() {
        #expect(JobArrays.childID("p", 3) == "p.3" && JobArrays.mayBeChild("p.3") && !JobArrays.mayBeChild(UUID().uuidString.lowercased()))
        let array = JobArray(size: 4, sequential: true, nToN: ["a", "b"])
        #expect(JobArrays.prerequisites(of: 0, parent: "p", array) == ["a.0", "b.0"])
        #expect(JobArrays.prerequisites(of: 2, parent: "p", array) == ["a.2", "b.2", "p.1"])
        #expect(JobArrays.prerequisites(of: 2, parent: "p", JobArray(size: 4)).isEmpty)
        #expect(JobArrays.sizeProblem(2) == nil && JobArrays.sizeProblem(10_000) == nil)
        #expect(JobArrays.sizeProblem(1) != nil && JobArrays.sizeProblem(10_001) != nil)
        #expect(JobArrays.verdict(size: 3, succeeded: 2, failed: 0, firstFailure: nil) == nil)
        #expect(JobArrays.verdict(size: 3, succeeded: 3, failed: 0, firstFailure: nil)?.state == .succeeded)
        #expect(JobArrays.verdict(size: 3, succeeded: 1, failed: 2, firstFailure: "child 0: x")?.reason == "2 of 3 children FAILED; first: child 0: x")
    }

    @Test("a parent and a child as table items read back the same; the parent RUNNING sits in the active arrays' partition")
    func items() throws {
        var parent = JobRecord(id: "p", job: "fan", parameters: [:], submittedAt: 1, array: JobArray(size: 3, sequential: true, nToN: ["q"]))
        parent.state = .running
        let item = JobTable.item(parent)
        #expect(item[.gsi2pk] == .s(JobTable.activeArrays) && item[.arrayCreated] == .n("0"))
        #expect(try JobTable.record(item) == parent)
        let child = JobRecord(id: "p.2", job: "fan", parameters: [:], state: .runnable, submittedAt: 1, arrayChild: ArrayChild(parent: "p", index: 2, size: 3))
        #expect(try JobTable.record(JobTable.item(child)) == child)
        #expect(JobTable.item(child)[.gsi1pk] == .s(JobTable.kindQueue("fan")))
    }

    @Test("the runner's payload carries a child's index and size; a plain job's has neither")
    func payload() throws {
        let spec = JobSpec(name: "fan", instance: InstanceSpec(types: ["t3.micro"], image: "ami-0abcdef1234567890"), steps: [.init(name: "a", run: "true")], timeoutSeconds: 60)
        let child = RunnerPayload(jobID: "p.2", attempt: 1, arguments: [:], spec: spec, reporting: nil, arrayChild: ArrayChild(parent: "p", index: 2, size: 3))
        let decoded = try JSONDecoder().decode(RunnerPayload.self, from: JSONEncoder().encode(child))
        #expect(decoded.arrayIndex == 2 && decoded.arraySize == 3)
        let plain = RunnerPayload(jobID: "j", attempt: 1, arguments: [:], spec: spec, reporting: nil)
        let encoded = String(decoding: try JSONEncoder().encode(plain), as: UTF8.self)
        #expect(plain.arrayIndex == nil && !encoded.contains("array"))
    }
}
