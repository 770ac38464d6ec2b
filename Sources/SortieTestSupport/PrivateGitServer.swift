import Foundation

/// A private git repository on 127.0.0.1 over HTTPS, as a hosting service serves one: git's
/// dumb HTTP protocol (a bare repository after `git update-server-info`, its files served as
/// they are) behind a `FakeServer` that answers 401 to any request without
/// `Authorization: Basic base64(x-access-token:<token>)`, with `TLSTerminator` in front.
/// Clients trust it through `GIT_SSL_CAINFO=<authority>`.
public struct PrivateGitServer: Sendable {
    public let url: String
    public let authority: String
    private let folder: URL
    private let server: FakeServer
    private let terminator: TLSTerminator

    /// Every request as received (the Authorization header included).
    public var requests: [FakeServer.Request] { server.requests }
    /// How many requests were answered 401.
    public var refusals: Int { requests.filter { $0.headers["authorization"] != expectedHeader }.count }
    private let expectedHeader: String

    /// A repository holding `files` in one commit on branch `main`, reachable with `token` only.
    public static func start(files: [String: String], token: String) async throws -> PrivateGitServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-git-\(UUID().uuidString)")
        let work = folder.appendingPathComponent("work")
        let bare = folder.appendingPathComponent("team/etl.git")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: work.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let git = ["-c", "user.name=Sortie Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
        for arguments in [
            ["init", "-q", work.path], ["-C", work.path, "add", "."], ["-C", work.path, "commit", "-q", "-m", "the job's code"],
            ["clone", "-q", "--bare", work.path, bare.path], ["-C", bare.path, "update-server-info"],
        ] {
            let run = try Command.run("/usr/bin/git", git + arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": folder.path])
            guard run.status == 0 else { throw TLSFixtureError("git \(arguments.joined(separator: " ")): \(run.stderr)") }
        }
        let expected = "Basic " + Data("x-access-token:\(token)".utf8).base64EncodedString()
        let root = folder
        let server = try await FakeServer.start { request, _ in
            guard request.headers["authorization"] == expected else {
                return FakeServer.Answer(status: 401, headers: ["WWW-Authenticate": #"Basic realm="private""#])
            }
            let path = String(request.path.split(separator: "?", maxSplits: 1).first ?? "")
            guard request.method == "GET", !path.contains(".."), let body = FileManager.default.contents(atPath: root.path + path) else {
                return FakeServer.Answer(status: 404)
            }
            return FakeServer.Answer(status: 200, headers: ["Content-Type": "application/octet-stream"], body: body)
        }
        let terminator: TLSTerminator
        do {
            terminator = try TLSTerminator.start(forwardingTo: server.port)
        } catch {
            await server.stop()
            throw error
        }
        return PrivateGitServer(
            url: "https://127.0.0.1:\(terminator.port)/team/etl.git", authority: terminator.authority, folder: folder, server: server,
            terminator: terminator, expectedHeader: expected)
    }

    public func stop() async {
        terminator.stop()
        await server.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}
