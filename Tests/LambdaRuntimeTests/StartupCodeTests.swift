@testable import LambdaRuntime
import Foundation
import Testing

@Suite("Start-up pages let go after the first invocation")
struct StartupCodeTests {
    @Test("of a file's private mapping, the resident pages still the file's are dropped and read back the same; a page written since (its anonymous copy) is kept with what was written; a writable mapping is left alone unless allowed")
    func release() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = 8
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("startup-\(UUID().uuidString)").path
        try Data((0..<pages).flatMap { [UInt8](repeating: UInt8($0 + 1), count: pageSize) }).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let descriptor = open(path, O_RDONLY)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let mapped = mmap(nil, pages * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        let base = try #require(mapped == MAP_FAILED ? nil : mapped)
        defer { munmap(base, pages * pageSize) }
        for page in 0..<pages { #expect(base.load(fromByteOffset: page * pageSize, as: UInt8.self) == UInt8(page + 1)) }
        base.storeBytes(of: 0xEE, toByteOffset: 3 * pageSize, as: UInt8.self)

        func resident() -> [Int] {
            let pagemap = open("/proc/self/pagemap", O_RDONLY)
            defer { close(pagemap) }
            var entries = [UInt64](repeating: 0, count: pages)
            _ = entries.withUnsafeMutableBytes { pread(pagemap, $0.baseAddress, pages * 8, off_t(Int(bitPattern: base) / pageSize * 8)) }
            return entries.indices.filter { entries[$0] & (1 << 63) != 0 }
        }
        #expect(resident() == Array(0..<pages))
        #expect(StartupCode.release(file: path, writable: false) == 0, "a writable mapping while other threads may write")
        #expect(StartupCode.release(file: path, writable: true) == (pages - 1) * pageSize)
        #expect(resident() == [3], "only the written page's copy stays")
        for page in 0..<pages {
            #expect(base.load(fromByteOffset: page * pageSize, as: UInt8.self) == (page == 3 ? 0xEE : UInt8(page + 1)), "page \(page)")
        }
    }

    @Test("a line of /proc/self/maps: its range, whether it is writable and private, its path (spaces kept)")
    func mapsLine() throws {
        let line = "00400000-01236000 r-xp 00000000 fe:00 5365795                            /var/task/my bootstrap"
        let mapping = try #require(StartupCode.Mapping(ArraySlice(line.utf8)))
        #expect(mapping.range == 0x400000..<0x1236000 && !mapping.isWritable && mapping.isPrivate)
        #expect(String(decoding: mapping.path, as: UTF8.self) == "/var/task/my bootstrap")
        let anonymous = try #require(StartupCode.Mapping(ArraySlice("7fff77fb1000-7fff77fd2000 rw-s 00000000 00:00 0 ".utf8)))
        #expect(anonymous.isWritable && !anonymous.isPrivate && anonymous.path.isEmpty)
        #expect(StartupCode.Mapping(ArraySlice("zz-01 r-xp 0 0 0 /x".utf8)) == nil)
    }
}
