import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback backend on its own thread that accepts one connection and runs `handler` on a
/// plain blocking socket: read to EOF, answer, FIN, RST, exactly as a test scripts it.
/// `result()` waits (semaphore, 30 s cap) for what the handler observed.
final class Backend<Observed: Sendable>: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var observed: Observed?
    private let finished = DispatchSemaphore(value: 0)

    init(handler: @escaping @Sendable (BackendSocket) -> Observed) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            Glibc.close(fd)
            throw TestFailure("bind/listen failed: \(errno)")
        }
        listenFD = fd
        port = Self.localPort(fd)
        let thread = Thread { [self] in
            var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 30_000) == 1 else { finished.signal(); return }
            let connection = accept(listenFD, nil, nil)
            guard connection >= 0 else { finished.signal(); return }
            var tv = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let socket = BackendSocket(fd: connection)
            let value = handler(socket)
            socket.close()
            lock.withLock { observed = value }
            finished.signal()
        }
        thread.start()
    }

    deinit { Glibc.close(listenFD) }

    func result() throws -> Observed {
        guard finished.wait(timeout: .now() + 30) == .success, let value = lock.withLock({ observed }) else {
            throw TestFailure("backend did not finish")
        }
        return value
    }

    static func localPort(_ fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A port nothing listens on (bound, then closed).
    static func unusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let port = localPort(fd)
        Glibc.close(fd)
        return port
    }
}

/// How a read on the backend's socket ended.
enum End: Equatable, Sendable { case fin, rst, timeout, other(Int32) }

/// The backend's accepted socket, blocking with 30 s timeouts so a broken test cannot hang.
final class BackendSocket: @unchecked Sendable {
    private(set) var fd: Int32
    init(fd: Int32) { self.fd = fd }

    /// Reads until EOF or an error, and says which.
    func readToEnd() -> (bytes: [UInt8], end: End) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n == 0 { return (bytes, .fin) }
            let code = errno
            if code == EINTR { continue }
            if code == ECONNRESET { return (bytes, .rst) }
            if code == EAGAIN || code == EWOULDBLOCK { return (bytes, .timeout) }
            return (bytes, .other(code))
        }
    }

    /// Reads exactly `count` bytes (fewer if the stream ends first).
    func read(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - bytes.count), 0) }
            if n <= 0 { if n < 0, errno == EINTR { continue }; break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// Writes all of `bytes`; false if the peer is gone.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func write(_ text: String) -> Bool { write(Array(text.utf8)) }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// SO_LINGER {1, 0} then close: an RST.
    func reset() {
        guard fd >= 0 else { return }
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
