import Foundation

/// Debian's `chromium`, headless, as a person's browser would show a page: its DOM once the
/// page's own scripts have run, or a screenshot. Every run is bounded: coreutils' `timeout` sends
/// SIGKILL to chromium's whole process group at `timeout` (and `Command.run` gives up a little later).
public enum HeadlessChromium {
    public static let executable = "/usr/bin/chromium"

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// The DOM after the page's scripts, timers included, have run (up to `budget` of virtual time).
    public static func dom(_ page: URL, budget: Duration = .seconds(30), timeout: Duration = .seconds(90)) throws -> String {
        try run(["--virtual-time-budget=\(budget.components.seconds * 1000)", "--dump-dom", page.absoluteString], timeout: timeout).stdout
    }

    /// The DOM as `dom` gives it, and the page's console messages, each with the wall-clock time
    /// (seconds of the day, UTC) Chromium logged it at.
    public static func domAndConsole(_ page: URL, budget: Duration = .seconds(30), timeout: Duration = .seconds(90)) throws -> (dom: String, console: [(at: Double, message: String)]) {
        let result = try run(["--virtual-time-budget=\(budget.components.seconds * 1000)", "--enable-logging=stderr", "--v=0", "--dump-dom", page.absoluteString], timeout: timeout)
        // [pid:tid:MMDD/HHMMSS.micros:INFO:CONSOLE(…)] "message", source: …
        let messages = result.stderr.split(separator: "\n").compactMap { line -> (Double, String)? in
            guard line.contains(":INFO:CONSOLE"), let slash = line.firstIndex(of: "/"), let open = line.firstIndex(of: "\""),
                  let close = line[line.index(after: open)...].firstIndex(of: "\"") else { return nil }
            let stamp = line[line.index(after: slash)...].prefix { $0 != ":" }
            guard stamp.count >= 13, let hours = Double(stamp.prefix(2)), let minutes = Double(stamp.dropFirst(2).prefix(2)),
                  let seconds = Double(stamp.dropFirst(4)) else { return nil }
            return (hours * 3600 + minutes * 60 + seconds, String(line[line.index(after: open)..<close]))
        }
        return (result.stdout, messages)
    }

    /// A PNG of the page's first `width` × `height` pixels.
    public static func screenshot(_ page: URL, to file: URL, width: Int, height: Int, budget: Duration = .seconds(30), timeout: Duration = .seconds(90)) throws {
        try? FileManager.default.removeItem(at: file)
        _ = try run([
            "--virtual-time-budget=\(budget.components.seconds * 1000)", "--hide-scrollbars", "--window-size=\(width),\(height)",
            "--screenshot=\(file.path)", page.absoluteString,
        ], timeout: timeout)
        guard FileManager.default.fileExists(atPath: file.path) else { throw Failed(description: "chromium wrote no screenshot at \(file.path)") }
    }

    static func run(_ arguments: [String], timeout: Duration) throws -> Command.Result {
        guard isInstalled else { throw Failed(description: "\(executable) is not installed (scripts/setup.sh installs it)") }
        // Its own profile each time: two runs at once must not share one.
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("sortie-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let seconds = timeout.components.seconds
        let result = try Command.run("/usr/bin/timeout", [
            "--signal=KILL", "\(seconds)s", executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--user-data-dir=\(profile.path)",
        ] + arguments, timeout: .seconds(seconds + 15))
        // Killed at its timeout, `timeout` itself dies of the same SIGKILL.
        guard result.status == 0 else {
            throw Failed(description: "chromium ended with status \(result.status) (killed at \(seconds) s, or failed): \(result.stderr.suffix(2000))")
        }
        return result
    }
}
