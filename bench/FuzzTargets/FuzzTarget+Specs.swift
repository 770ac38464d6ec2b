import JobSpecYAML
import JobModel

/// Job specs as `sortie validate` and `publish` read them: YAML in, a spec or a SpecError naming what was wrong.
extension FuzzTarget {
    static let specs: [FuzzTarget] = [
        FuzzTarget(name: "yaml-spec", summary: "job specs in YAML (sortie validate/publish): a spec or line-precise errors",
                   seeds: { Seeds.files(in: "Tests/Fixtures/jobs/valid") { $0.hasSuffix(".yaml") } + Seeds.files(in: "Tests/Fixtures/jobs/invalid") { $0.hasSuffix(".yaml") } }) { input in
            guard let text = String(validating: input, as: UTF8.self) else { return }
            do throws(SpecError) {
                _ = try JobSpecYAML.spec(yaml: text, file: "fuzz.yaml")
            } catch {
                precondition(!error.issues.isEmpty, "a refused spec must say what was wrong")
            }
        },
    ]
}
