import AWSCore
import Foundation
import JobReport
import LocalAWS
import LoopbackHTTP
import WallTime

/// `sortie dev`'s picture of the jobs on loopback: `/report` is the page `sortie report` writes,
/// which fetches `/report.json` every few seconds and draws it again, so it follows the jobs live.
/// Each request gathers afresh (the last week, as `sortie report`'s default).
struct ReportServer: Sendable {
    let server: LoopbackHTTPServer

    static let window: Int64 = 7 * 86_400_000

    static func start(_ source: JobReport.Source) async throws -> ReportServer {
        let server = try await LoopbackHTTPServer.start { request in
            guard request.method == "GET", ["/report", "/report.json"].contains(request.path) else { return LoopbackResponse(status: 404) }
            do {
                var report = try await blocking {
                    let now = WallClock.unixMilliseconds()
                    return try JobReport.gather(from: source, since: now - window, now: now)
                }
                report.live = "/report.json"
                if request.path == "/report.json" {
                    return LoopbackResponse(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: [UInt8](try report.json()))
                }
                return LoopbackResponse(status: 200, headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], body: Array(try report.html().utf8))
            } catch {
                return LoopbackResponse(status: 500, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("cannot gather the report: \(error)\n".utf8))
            }
        }
        return ReportServer(server: server)
    }

    var url: String { server.endpoint + "/report" }

    func stop() async { await server.stop() }
}
