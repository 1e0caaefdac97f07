import Foundation
import NIOConcurrencyHelpers
import TacetTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Both directions at once, readers slower than writers (small reads against big writes): the
/// proxy must stop reading a side whose partner is full, so its memory does not grow with the
/// amount moved. Measured as this process's peak RSS (VmHWM, reset first) over its RSS before.
@Suite(.serialized) struct StreamBackpressureTests {
    static let total = 256 * 1024 * 1024

    @Test func bothDirectionsAtOnceInBoundedMemory() async throws {
        let backend = try TestServer(timeout: 30) { socket -> Int in
            let writer = Pump.startWriting(fd: socket.fd, total: Self.total)
            let read = Pump.readAll(fd: socket.fd)
            writer.wait()
            return read
        }
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let proxyPort = proxy.port
            // The pumps block: they run on threads of their own, never on the cooperative pool.
            let client = try await blocking { try Pump.connect(port: proxyPort) }
            Memory.resetPeak()
            let before = Memory.kib("VmRSS")
            let writer = Pump.startWriting(fd: client, total: Self.total)
            let clientRead = await blocking { Pump.readAll(fd: client) }
            await blocking { writer.wait() }
            let backendRead = try await backend.result()
            let peak = Memory.kib("VmHWM")
            close(client)
            #expect(clientRead == Self.total)
            #expect(backendRead == Self.total)
            // 512 MiB moved; a proxy that buffered would grow by a good part of that. The measure is
            // the whole test process, which other suites share (the HTTP/2 and TLS file tests run
            // beside this one): the margin is for them, and still well under one direction's 256 MiB.
            #expect(peak - before < 192 * 1024, "peak RSS grew by \(peak - before) KiB")
            let log = try await proxy.logs.streamClosed()
            #expect(log["bytes_up"] == "\(Self.total)" && log["bytes_down"] == "\(Self.total)")
            #expect(log["end"] == "clean")
        }
    }
}

/// Blocking socket pumps for the memory test: big writes then SHUT_WR, small reads to EOF.
enum Pump {
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw TestFailure("connect failed: \(errno)") }
        return fd
    }

    /// Writes `total` bytes in 256 KiB writes on a new thread, then shuts down the write side.
    static func startWriting(fd: Int32, total: Int) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let chunk = [UInt8](repeating: 0x5A, count: 256 * 1024)
            var left = total
            while left > 0 {
                let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, left), Int32(MSG_NOSIGNAL)) }
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                left -= n
            }
            shutdown(fd, Int32(SHUT_WR))
            done.signal()
        }
        thread.start()
        return done
    }

    /// Reads in 4 KiB reads until EOF or an error; returns the byte count.
    static func readAll(fd: Int32) -> Int {
        var chunk = [UInt8](repeating: 0, count: 4096)
        var count = 0
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return count }
            count += n
        }
    }
}

enum Memory {
    /// `echo 5 > /proc/self/clear_refs` resets VmHWM to the current RSS.
    static func resetPeak() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        _ = "5".withCString { write(fd, $0, 1) }
        close(fd)
    }

    static func kib(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
