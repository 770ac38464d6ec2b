import Foundation
import JobSpecYAML
import JobModel
import Testing

@Suite("Reading specs")
struct SpecReadingTests {
    private func yaml(_ text: String) throws(SpecError) -> JobSpec { try JobSpecYAML.spec(yaml: text, file: "inline") }

    private let minimal = """
        name: demo
        instance: {types: [t3.micro], image: ami-0123456789abcdef0}
        steps: [{name: a, run: "true"}]
        timeout: 1h
        """

    @Test("defaults fill what a minimal spec leaves out")
    func defaults() throws {
        let spec = try yaml(minimal)
        #expect(spec.timeoutSeconds == 3600)
        #expect(spec.maxConcurrency == 1)
        #expect(spec.priority == 0)
        #expect(spec.noShutdown == false)
        #expect(spec.retry == RetryStrategy(attempts: 1, evaluateOnExit: []))
        #expect(spec.instance.market == .onDemand)
        #expect(spec.instance.rootDevice == "/dev/xvda")
        #expect(spec.steps == [JobSpec.Step(name: "a", run: "true")])
    }

    @Test("durations: whole seconds, units and combinations", arguments: [
        ("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86_400), ("1d2h3m4s", 93_784),
    ])
    func durations(_ text: String, _ seconds: Int) throws {
        let spec = try yaml(minimal.replacingOccurrences(of: "timeout: 1h", with: "timeout: \(text)"))
        #expect(spec.timeoutSeconds == seconds)
    }

    @Test("bad durations are refused", arguments: ["0", "-5", "5x", "m", "1.5h", "8d", "h1"])
    func badDurations(_ text: String) {
        #expect(throws: SpecError.self) { try yaml(minimal.replacingOccurrences(of: "timeout: 1h", with: "timeout: \(text)")) }
    }

    @Test("YAML's implicit types do not leak into text: `on`, `1.10`, `2024` stay as written")
    func plainScalarsAsText() throws {
        let spec = try JobSpecYAML.load(path: SpecCorpusTests.folder.appendingPathComponent("valid/yaml-quirks.yaml").path)
        #expect(spec.code == .git(repository: "/srv/git/quirks.git", branch: "on"))
        #expect(spec.environment == ["PORT": "8080", "RATIO": "1.10", "QUOTED": "yes"])
        #expect(spec.arguments["version"]?.defaultValue == "2024")
        #expect(spec.arguments["empty"]?.defaultValue == "")
        #expect(spec.steps.first?.run == "set -x\necho \"version $SORTIE_ARG_version\"\necho 'done'\n")
        #expect(spec.steps.first?.timeoutSeconds == 90)
    }

    @Test("a quoted number is text where a number is expected")
    func quotedNumber() {
        #expect(throws: SpecError.self) { try yaml(minimal + "\nmax_concurrency: \"4\"") }
    }

    @Test("the published JSON form is held to the same rules: an unknown key is named")
    func strictJSON() throws {
        let json = Data(#"{"name":"demo","instance":{"types":["t3.micro"],"image":"ami-1"},"steps":[{"name":"a","run":"x","timout":5}],"timeout":60}"#.utf8)
        do {
            _ = try JSONDecoder().decode(JobSpec.self, from: json)
            Issue.record("decoded a spec with an unknown key")
        } catch let error as SpecError {
            #expect(error.issues.map(\.field) == ["steps[0].timout"])
            #expect(error.issues.first?.location == nil)
            #expect(error.description.contains("unknown key 'timout'"))
        }
    }

    @Test("every problem is reported at once, in one error")
    func allProblemsAtOnce() {
        do {
            _ = try yaml("name: Bad Name\ninstance: {types: [], image: x}\nsteps: []\ntimeout: never\nmax_concurrency: 0\n")
            Issue.record("accepted a broken spec")
        } catch {
            #expect(Set(error.issues.map(\.field)) == ["name", "instance.types", "instance.image", "steps", "timeout", "max_concurrency"])
            #expect(error.issues.allSatisfy { $0.location != nil && $0.file == "inline" })
        }
    }

    @Test("an empty file and a non-mapping document are explained")
    func notASpec() {
        for text in ["", "# only a comment\n", "- a\n- b\n"] {
            #expect(throws: SpecError.self) { try yaml(text) }
        }
    }
}
