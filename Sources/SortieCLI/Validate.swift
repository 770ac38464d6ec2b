import ArgumentParser
import Foundation
import JobModel

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check job specs; each problem is printed as FILE:LINE:COLUMN: FIELD: what was expected.")

    @Argument(help: "Spec files, or folders of them (e.g. jobs/).")
    var paths: [String]

    func run() throws {
        let loaded = try SpecFiles.load(paths)
        for error in loaded.errors {
            for issue in error.issues { print(issue) }
        }
        let problems = loaded.errors.reduce(0) { $0 + $1.issues.count }
        print("\(loaded.specs.count) valid, \(loaded.errors.count) invalid (\(problems) problem\(problems == 1 ? "" : "s"))")
        if !loaded.errors.isEmpty { throw ExitCode.failure }
    }
}

struct PrintJSON: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Check one spec and print its published (JSON) form.")

    @Argument(help: "A spec file.")
    var path: String

    func run() throws {
        let loaded = try SpecFiles.load([path])
        guard let spec = loaded.specs.first?.spec, loaded.errors.isEmpty else {
            for issue in loaded.errors.flatMap(\.issues) { FileHandle.standardError.write(Data("\(issue)\n".utf8)) }
            throw ExitCode.failure
        }
        FileHandle.standardOutput.write(try SpecFiles.json(spec))
    }
}
