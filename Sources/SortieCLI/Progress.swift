import ArgumentParser
import Foundation
import Synchronization

/// How a command shows a long wait. Always on stderr, so stdout keeps only results (and `--json`):
/// one line per stage when stderr is a file or a pipe, one line rewritten in place (`\r`) on a
/// terminal, nothing with `--quiet`. Every stage carries the time since the command began.
final class Progress: Sendable {
    enum Style: Sendable, Equatable {
        case silent
        case lines
        /// The terminal's width: a longer line would wrap, and `\r` only returns to its last row.
        case terminal(columns: Int)
    }

    let style: Style
    private let write: @Sendable (String) -> Void
    private let began = ContinuousClock.now
    /// The current stage's text, and whether the terminal's line shows something to end.
    private let shown = Mutex<(stage: String, open: Bool)>(("", false))

    init(style: Style, write: @escaping @Sendable (String) -> Void = Progress.standardError) {
        self.style = style
        self.write = write
    }

    /// For this process's stderr, as `--quiet` and the kind of stderr say.
    static func forStandardError(quiet: Bool) -> Progress {
        guard !quiet else { return Progress(style: .silent) }
        guard isatty(STDERR_FILENO) == 1 else { return Progress(style: .lines) }
        var size = winsize()
        let columns = ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        return Progress(style: .terminal(columns: columns))
    }

    @Sendable static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// A new stage: a line of its own, or the terminal line's new text.
    @Sendable func stage(_ text: String) {
        shown.withLock { $0.stage = text }
        switch style {
        case .silent: return
        case .lines: write("\(stamp()) \(text)\n")
        case .terminal: rewrite(text)
        }
    }

    /// How the current stage is going (bytes sent, time waited): only a terminal's line shows it.
    func update(_ detail: String? = nil) {
        guard case .terminal = style else { return }
        rewrite(shown.withLock { $0.stage }, detail: detail)
    }

    /// The last stage, kept on screen; call before anything else is printed to the terminal.
    func finish(_ text: String) {
        stage(text)
        if case .terminal = style { write("\n") }
        shown.withLock { $0.open = false }
    }

    /// Ends the terminal's line (if one is showing) without a stage of its own: before an error message.
    func close() {
        let open = shown.withLock { shown in
            defer { shown.open = false }
            return shown.open
        }
        guard open else { return }
        write("\n")
    }

    var elapsed: Duration { ContinuousClock.now - began }

    private func stamp() -> String { "[\(Self.seconds(elapsed))]" }

    /// The stage is shortened to fit the line, never the stamp or the detail (the figures that move).
    private func rewrite(_ stage: String, detail: String? = nil) {
        guard case .terminal(let columns) = style else { return }
        shown.withLock { $0.open = true }
        let stamp = stamp()
        let tail = detail.map { " \($0)" } ?? ""
        let room = max(columns - 1 - stamp.count - 1 - tail.count, 10)
        let fitted = stage.count > room ? stage.prefix(room - 1) + "…" : Substring(stage)
        // Clear to the end of the line: a shorter text leaves nothing of the longer one before it.
        write("\r\(stamp) \(fitted)\(tail)\u{1B}[K")
    }

    /// `4.2s`, `1m05s`.
    static func seconds(_ duration: Duration) -> String {
        let tenths = Int(duration.components.seconds) * 10 + Int(duration.components.attoseconds / 100_000_000_000_000_000)
        guard tenths >= 600 else { return "\(tenths / 10).\(tenths % 10)s" }
        let whole = tenths / 10
        return "\(whole / 60)m\(whole % 60 < 10 ? "0" : "")\(whole % 60)s"
    }

    /// `12.5 MB` (decimal, as S3's console shows sizes).
    static func bytes(_ count: Int) -> String {
        count < 1_000_000 ? "\(count) bytes" : String(format: "%.1f MB", Double(count) / 1e6)
    }
}

/// `--quiet`, for every command that waits.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Show no progress on stderr.")
    var quiet = false

    func reporter() -> Progress { .forStandardError(quiet: quiet) }
}
