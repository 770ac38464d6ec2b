#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Lets go of the executable's start-up pages once the first invocation has been answered. The
/// kernel maps a binary's file pages in runs as they are first touched, so starting a static
/// Swift binary (the runtime's and FoundationEssentials' initialisation, the configuration read)
/// leaves megabytes of code and constant data resident that the loop never reads again.
///
/// Only pages that are still the file's own are dropped: in a private file mapping a page
/// written since (a relocation, a variable) is an anonymous copy, and `/proc/self/pagemap`
/// says which. Dropping a file page loses nothing; what the loop reads is mapped again on its
/// next touch. Writable mappings are left alone unless this is the only thread (`writable`), so
/// no write can land between the look and the drop.
enum StartupCode {
    /// Returns the bytes advised away (0 where /proc is not there).
    @discardableResult
    static func release(writable: Bool) -> Int {
        path(ofLink: "/proc/self/exe").map { release(file: $0, writable: writable) } ?? 0
    }

    /// The same for the private mappings of any one file (the tests' own).
    static func release(file executable: String, writable: Bool) -> Int {
        #if os(Linux)
        guard let maps = contents(of: "/proc/self/maps") else { return 0 }
        let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard pagemap >= 0 else { return 0 }
        defer { close(pagemap) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var released = 0
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            guard let mapping = Mapping(line), mapping.path.elementsEqual(executable.utf8), mapping.isPrivate,
                  !mapping.isWritable || writable else { continue }
            for run in fileBackedRuns(mapping.range, pageSize: pageSize, pagemap: pagemap)
            where madvise(UnsafeMutableRawPointer(bitPattern: run.lowerBound), run.count, MADV_DONTNEED) == 0 {
                released += run.count
            }
        }
        return released
        #else
        return 0
        #endif
    }

    /// One line of /proc/self/maps: `start-end perms offset dev inode path`.
    struct Mapping {
        var range: Range<Int>
        var isWritable: Bool
        var isPrivate: Bool
        var path: ArraySlice<UInt8>

        init?(_ line: ArraySlice<UInt8>) {
            let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count >= 5, fields[1].count == 4 else { return nil }  // an anonymous mapping has no path
            let bounds = fields[0].split(separator: UInt8(ascii: "-"))
            guard bounds.count == 2, let start = Int(String(decoding: bounds[0], as: UTF8.self), radix: 16),
                  let end = Int(String(decoding: bounds[1], as: UTF8.self), radix: 16), start < end else { return nil }
            let permissions = Array(fields[1])
            range = start..<end
            isWritable = permissions[1] == UInt8(ascii: "w")
            isPrivate = permissions[3] == UInt8(ascii: "p")
            path = fields.count == 6 ? fields[5].drop { $0 == UInt8(ascii: " ") } : []
        }
    }

    /// The runs of `range`'s pages that are resident and still the file's (pagemap bits 63 and 61).
    static func fileBackedRuns(_ range: Range<Int>, pageSize: Int, pagemap: Int32) -> [Range<Int>] {
        let pages = range.count / pageSize
        var entries = [UInt64](repeating: 0, count: pages)
        let wanted = pages * 8
        let got = entries.withUnsafeMutableBytes { pread(pagemap, $0.baseAddress, wanted, off_t(range.lowerBound / pageSize * 8)) }
        guard got == wanted else { return [] }
        var runs: [Range<Int>] = []
        var start: Int?
        for (index, entry) in entries.enumerated() {
            let fileBacked = entry & (1 << 63) != 0 && entry & (1 << 61) != 0
            let address = range.lowerBound + index * pageSize
            if fileBacked, start == nil { start = address }
            if !fileBacked, let first = start {
                runs.append(first..<address)
                start = nil
            }
        }
        if let first = start { runs.append(first..<range.upperBound) }
        return runs
    }

    private static func path(ofLink link: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(link, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A /proc file's bytes (its size is not known beforehand: read until the end).
    private static func contents(of path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
        }
    }
}
