#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one clock of Sortie, without Foundation: Unix milliseconds for deadlines, records and log
/// lines, and waiting. A value, so that a test can play through time; `system` everywhere else.
public struct WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    public var nowMilliseconds: @Sendable () -> Int64
    public var sleep: @Sendable (Duration) async -> Void

    public init(nowMilliseconds: @escaping @Sendable () -> Int64, sleep: @escaping @Sendable (Duration) async -> Void) {
        self.nowMilliseconds = nowMilliseconds
        self.sleep = sleep
    }

    public static let system = WallClock(nowMilliseconds: unixMilliseconds, sleep: { try? await Task.sleep(for: $0) })

    /// Milliseconds since the Unix epoch, read from the system.
    public static func unixMilliseconds() -> Int64 {
        milliseconds(CLOCK_REALTIME)
    }

    /// Seconds since the Unix epoch, to the millisecond: for deadlines kept as seconds.
    public static func unixSeconds() -> Double {
        Double(unixMilliseconds()) / 1000
    }

    /// Milliseconds on a clock that never jumps (setting the time does not move it): for timeouts
    /// within one process, never for times that are stored or compared across processes.
    public static func monotonicMilliseconds() -> Int64 {
        milliseconds(CLOCK_MONOTONIC)
    }

    private static func milliseconds(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// `2026-11-25T15:43:35.123Z`, the form Lambda's own log lines use.
    public static func iso8601(milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
            + ".\(pad(Int32(milliseconds % 1000), 3))Z"
    }
}
