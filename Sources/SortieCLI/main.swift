import ArgumentParser
import SortieVersion

/// `sortie`: the developer's tool. Specs are written in YAML and checked here; the deployed
/// functions and the runner only ever read the JSON this tool publishes.
struct Sortie: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Batch jobs on self-terminating EC2, launched from Lambda.",
        discussion: """
            Results go to stdout (--json: one JSON document for scripts); progress of long waits goes to \
            stderr only: one line per stage, or one line updated in place on a terminal; --quiet hides it.

            Exit status: 0 done (with --wait: the job SUCCEEDED); 1 a failure the message explains \
            (with --wait: the job FAILED); 64 a usage error; 75 --wait gave up at its --timeout while \
            the job went on.
            """,
        version: SortieRelease.version,
        subcommands: [Validate.self, PrintJSON.self, Publish.self, Template.self, Dev.self, Demo.self, Submit.self, Describe.self, Logs.self, Cancel.self, Put.self, ShowFile.self, Jobs.self, Report.self])
}

Sortie.main()
