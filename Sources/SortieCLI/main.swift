import ArgumentParser
import LambdaRuntime

/// `sortie`: the developer's tool. Specs are written in YAML and checked here; the deployed
/// functions and the runner only ever read the JSON this tool publishes.
struct Sortie: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Batch jobs on self-terminating EC2, launched from Lambda.",
        version: Lambda.version,
        subcommands: [Validate.self, PrintJSON.self, Publish.self, Template.self, Dev.self, Demo.self, Submit.self, Describe.self, Logs.self, Cancel.self, Put.self, Jobs.self])
}

Sortie.main()
