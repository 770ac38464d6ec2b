import ArgumentParser
import Deployment
import Foundation

/// `sortie template`: prints `DeploymentTemplate` for a folder of definitions;
/// `functions/template.yaml` is its output, and a test fails when the committed file differs.
struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the CloudFormation template for functions/*.json and the job table.",
        discussion: "Lambda code is referenced as <dist>/<name>.zip for `aws cloudformation package`.")

    @Option(help: "The folder of function definitions.")
    var functions = "functions"

    @Option(help: "Where the zips are, relative to the template's folder.")
    var dist = "../dist"

    @Option(help: "Write the template to this file instead of standard output.")
    var output: String?

    func run() throws {
        let definitions: [FunctionDefinition]
        do {
            definitions = try FunctionDefinition.load(folder: URL(fileURLWithPath: functions))
        } catch {
            throw ValidationError("\(error)")
        }
        let text: String
        do {
            text = try DeploymentTemplate(definitions: definitions, dist: dist).yaml()
        } catch let error as TemplateError {
            throw ValidationError("\(error)")
        }
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
        } else {
            print(text, terminator: "")
        }
    }
}
