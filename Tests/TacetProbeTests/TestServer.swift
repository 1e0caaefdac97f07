import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection raw-socket server on loopback, run on its own Thread, for testing the client
/// against exactly-chosen server behaviour (read to EOF, answer then FIN, reset...).
/// The handler's return value is what the server observed; `result()` waits for it.
final class TestServer<Observed: Sendable>: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var observed: Observed?
    private let finished = DispatchSemaphore(value: 0)

    /// Listens on 127.0.0.1 (or ::1) on an ephemeral port, and runs `handler` for the first connection.
    init(ipv6: Bool = false, handler: @escaping @Sendable (ServerSocket) -> Observed) throws {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestError("socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bindLoopback(fd, ipv6: ipv6, port: 0) == 0, listen(fd, 8) == 0 else {
            Glibc.close(fd)
            throw TestError("bind/listen failed: \(errno)")
        }
        listenFD = fd
        port = boundPort(fd)
        let thread = Thread { [self] in
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 10_000) == 1 else { finished.signal(); return }
            let conn = accept(listenFD, nil, nil)
            guard conn >= 0 else { finished.signal(); return }
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let socket = ServerSocket(fd: conn)
            let value = handler(socket)
            socket.closeIfOpen()
            lock.withLock { observed = value }
            finished.signal()
        }
        thread.start()
    }

    deinit { Glibc.close(listenFD) }

    /// What the handler returned, waiting at most 10 s.
    func result() throws -> Observed {
        guard finished.wait(timeout: .now() + 10) == .success, let value = lock.withLock({ observed }) else {
            throw TestError("test server did not finish")
        }
        return value
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How a server-side read ended.
enum PeerEnd: Equatable, Sendable { case fin, rst, timeout, other(Int32) }

/// The server's accepted socket: blocking, with 10 s timeouts so a broken test cannot hang.
final class ServerSocket: @unchecked Sendable {
    private(set) var fd: Int32
    init(fd: Int32) { self.fd = fd }

    /// Reads until EOF or error; says which.
    func readToEnd() -> (bytes: [UInt8], end: PeerEnd) {
        var bytes: [UInt8] = []
        while true {
            let (chunk, end) = readOnce()
            bytes += chunk
            if let end { return (bytes, end) }
        }
    }

    /// Reads until `marker` appears in the bytes (or the stream ends).
    func read(until marker: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let needle = Array(marker.utf8)
        while !contains(bytes, needle) {
            let (chunk, end) = readOnce()
            bytes += chunk
            if end != nil { break }
        }
        return bytes
    }

    private func readOnce() -> ([UInt8], PeerEnd?) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { return (Array(buffer[0..<n]), nil) }
        if n == 0 { return ([], .fin) }
        let code = errno
        if code == EINTR { return ([], nil) }
        if code == ECONNRESET { return ([], .rst) }
        if code == EAGAIN || code == EWOULDBLOCK { return ([], .timeout) }
        return ([], .other(code))
    }

    @discardableResult
    func send(_ string: String) -> Bool { send(Array(string.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// SO_LINGER {1, 0} + close: an RST.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        closeIfOpen()
    }

    func closeIfOpen() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    /// The peer's (client's) port.
    var peerPort: Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }
        return withUnsafePointer(to: &storage) { raw in
            raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
    return false
}

/// Binds to loopback: 127.0.0.1 or ::1.
func bindLoopback(_ fd: Int32, ipv6: Bool, port: UInt16) -> Int32 {
    if ipv6 {
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = port.bigEndian
        addr.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
}

func boundPort(_ fd: Int32) -> Int {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    let family = Int32(storage.ss_family)
    return withUnsafePointer(to: &storage) { raw in
        family == AF_INET6
            ? raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            : raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
    }
}

/// A port on 127.0.0.1 that nothing listens on: bound (so the kernel picked it), then closed.
func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    _ = bindLoopback(fd, ipv6: false, port: 0)
    return boundPort(fd)
}
