import AWSCore
import AWSServices
import ArgumentParser
import Foundation
import JobModel

struct Publish: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check specs and publish them as <job>.json for the launcher (SORTIE_SPECS) and the runner.",
        discussion: "Nothing is published unless every spec is valid.")

    @Argument(help: "Spec files, or folders of them (e.g. jobs/).")
    var paths: [String]

    @Option(help: "s3://bucket/prefix/ or a local folder.")
    var to: String

    func run() throws {
        let loaded = try SpecFiles.load(paths)
        guard loaded.errors.isEmpty else {
            for issue in loaded.errors.flatMap(\.issues) { print(issue) }
            print("nothing published: \(loaded.errors.count) spec\(loaded.errors.count == 1 ? " is" : "s are") invalid")
            throw ExitCode.failure
        }
        if to.hasPrefix("s3://") {
            let rest = to.dropFirst("s3://".count)
            let bucket = String(rest.prefix { $0 != "/" })
            var prefix = String(rest.dropFirst(bucket.count + 1))
            if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
            let s3 = S3(client: try AWSClient.fromEnvironment())
            for (_, spec) in loaded.specs {
                let key = "\(prefix)\(spec.name).json"
                try s3.putObject(bucket: bucket, key: key, body: try SpecFiles.json(spec), contentType: "application/json")
                print("published \(spec.name) to s3://\(bucket)/\(key)")
            }
        } else {
            try FileManager.default.createDirectory(atPath: to, withIntermediateDirectories: true)
            for (_, spec) in loaded.specs {
                let file = URL(fileURLWithPath: to).appendingPathComponent("\(spec.name).json")
                try SpecFiles.json(spec).write(to: file, options: .atomic)
                print("published \(spec.name) to \(file.path)")
            }
        }
    }
}
