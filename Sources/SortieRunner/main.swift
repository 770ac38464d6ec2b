import JobRunner
import SortieVersion
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// `sortie-runner`: runs a job's steps on its EC2 instance (or, with --local, here).
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--version" {
    // Sortie's one release number, shared with the functions.
    print("sortie-runner \(SortieRelease.version)")
    exit(0)
}
exit(RunnerCommand.main(arguments, environment: ProcessInfo.processInfo.environment))
