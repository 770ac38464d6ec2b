import Foundation

/// A /proc file's whole text. Such files report a size of 0, and `String(contentsOfFile:)` then
/// stops after the first 4 KB (checked on /proc/kallsyms), so they are read to their end instead.
public func procText(_ path: String) -> String? {
    FileHandle(forReadingAtPath: path).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) }
}

/// A /proc/PID/status figure in kB: VmRSS (resident now) or VmHWM (its high-water mark).
public func residentKilobytes(_ pid: Int32, _ field: String) -> Int? {
    guard let status = procText("/proc/\(pid)/status"),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return nil }
    return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
}
