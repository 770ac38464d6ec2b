import Foundation

/// A private git repository on 127.0.0.1 over HTTPS, as a hosting service serves one: git's
/// smart HTTP protocol (`git http-backend` as CGI, one process per request: shallow clones need
/// it, the dumb protocol refuses them) behind a `FakeServer` that answers 401 to any request
/// without `Authorization: Basic base64(x-access-token:<token>)`, with `TLSTerminator` in front.
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

    /// A repository holding `files` in one commit on branch `main`, reachable with `token` only;
    /// each answer waits `delay` first (a slow server, to stop a clone midway).
    public static func start(files: [String: String], token: String, delay: Duration = .zero) async throws -> PrivateGitServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-git-\(UUID().uuidString)")
        let work = folder.appendingPathComponent("work")
        let bare = folder.appendingPathComponent("team/etl.git")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: work.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let git = ["-c", "user.name=Sortie Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main"]
        for arguments in [
            ["init", "-q", work.path], ["-C", work.path, "add", "."], ["-C", work.path, "commit", "-q", "-m", "the job's code"],
            ["clone", "-q", "--bare", work.path, bare.path],
        ] {
            let run = try Command.run("/usr/bin/git", git + arguments, environment: ["PATH": "/usr/bin:/bin", "HOME": folder.path])
            guard run.status == 0 else { throw TLSFixtureError("git \(arguments.joined(separator: " ")): \(run.stderr)") }
        }
        let expected = "Basic " + Data("x-access-token:\(token)".utf8).base64EncodedString()
        let root = folder
        let server = try await FakeServer.start { request, _ in
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
            guard request.headers["authorization"] == expected else {
                return FakeServer.Answer(status: 401, headers: ["WWW-Authenticate": #"Basic realm="private""#])
            }
            return backend(request, root: root)
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

    /// One request through `git http-backend`: the CGI variables in, its `Status:` and headers out.
    private static func backend(_ request: FakeServer.Request, root: URL) -> FakeServer.Answer {
        var environment = [
            "GIT_PROJECT_ROOT": root.path, "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": request.method, "PATH_INFO": request.path,
            "QUERY_STRING": request.query, "CONTENT_TYPE": request.headers["content-type"] ?? "",
            "CONTENT_LENGTH": String(request.body.count), "REMOTE_USER": "x-access-token", "PATH": "/usr/bin:/bin",
        ]
        if let encoding = request.headers["content-encoding"] { environment["HTTP_CONTENT_ENCODING"] = encoding }
        if let protocolHeader = request.headers["git-protocol"] { environment["GIT_PROTOCOL"] = protocolHeader }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/lib/git-core/git-http-backend")
        process.environment = environment
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return FakeServer.Answer(status: 500, body: Data("git http-backend: \(error)".utf8))
        }
        // Its answer is read while the body is written, so neither pipe can fill up and stall.
        let writer = Thread { input.fileHandleForWriting.write(request.body); try? input.fileHandleForWriting.close() }
        writer.start()
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let end = answer.range(of: Data("\r\n\r\n".utf8)) ?? answer.range(of: Data("\n\n".utf8)) else {
            return FakeServer.Answer(status: 500, body: answer)
        }
        var status = 200
        var headers: [String: String] = [:]
        for line in String(decoding: answer[..<end.lowerBound], as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon]), value = String(line[line.index(after: colon)...].drop { $0 == " " })
            if name.lowercased() == "status" { status = Int(value.prefix(3)) ?? 500 } else { headers[name] = value }
        }
        return FakeServer.Answer(status: status, headers: headers, body: Data(answer[end.upperBound...]))
    }

    public func stop() async {
        terminator.stop()
        await server.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}
