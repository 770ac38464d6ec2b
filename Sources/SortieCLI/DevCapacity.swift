import AWSCore
import ArgumentParser
import CurlHTTP
import DevEnvironment
import Foundation

/// `sortie dev capacity`: stages an EC2 capacity shortage on a running `sortie dev` (its EC2 front,
/// found at the `AWS_ENDPOINT_URL_EC2` it printed), or shows the one staged.
struct DevCapacity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capacity",
        abstract: "Stage an EC2 capacity shortage on a running sortie dev: RunInstances for these types is refused with InsufficientInstanceCapacity.",
        discussion: "Without options, shows the types sold out now. Talks to the sortie dev whose AWS_ENDPOINT_URL_EC2 is set (from the exports it prints).")

    @Option(help: "Instance types EC2 has no capacity for from now on, comma-separated (replaces the staged ones).")
    var soldOut: String?

    @Flag(help: "Capacity for every type again.")
    var available = false

    @Flag(help: "Print the staged types as JSON: {\"soldOut\": [...]}.")
    var json = false

    func validate() throws {
        if soldOut != nil && available { throw ValidationError("--sold-out and --available are each other's opposite: give one") }
    }

    func run() throws {
        guard let endpoint = ProcessInfo.processInfo.environment["AWS_ENDPOINT_URL_EC2"], !endpoint.isEmpty else {
            throw CommandError("sortie dev capacity talks to a running sortie dev: set AWS_ENDPOINT_URL_EC2 from the exports it printed")
        }
        var request = HTTPRequest(method: "GET", url: endpoint + EC2Front.controlPath, timeout: .seconds(10))
        if available || soldOut != nil {
            request.method = "PUT"
            request.headers = ["Content-Type": "application/json"]
            request.body = try JSONSerialization.data(withJSONObject: ["soldOut": Self.types(soldOut).sorted()])
        }
        let answer: HTTPResponse
        do {
            answer = try CurlTransport().send(request)
        } catch {
            throw CommandError("no sortie dev answers at \(endpoint): \(error)")
        }
        guard answer.status == 200, let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
              let types = object["soldOut"] as? [String] else {
            throw CommandError("\(endpoint) is not sortie dev's EC2 (HTTP \(answer.status)): only sortie dev can stage a shortage")
        }
        if json { return print(String(decoding: answer.body, as: UTF8.self)) }
        print(types.isEmpty ? "EC2 has capacity for every type" : "EC2 has no capacity for \(types.joined(separator: ", "))")
    }

    /// `t3.micro, c7i.large` as a set of types.
    static func types(_ list: String?) -> Set<String> {
        Set((list ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }
}
