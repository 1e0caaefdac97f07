import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A one-connection raw-socket server on loopback (127.0.0.1 or ::1), run on its own Thread, for
/// exactly-chosen peer behaviour: read to EOF, answer then FIN, reset... The handler works on a
/// plain blocking socket; its return value is what the server observed, and `result()` gives it.
///
/// Every wait is bounded by `timeout` seconds (the accept, each read and write, `result()`), so a
/// broken test fails instead of hanging.
public final class TestServer<Observed: Sendable>: Sendable {
    public let port: Int
    private let listenFD: Int32
    private let timeout: Int
    /// The handler's value; nil if no client came.
    private let finished = OneShot<Observed?>()

    /// Listens on an ephemeral loopback port and runs `handler` for the first connection.
    public init(ipv6: Bool = false, timeout: Int = 10, handler: @escaping @Sendable (ServerSocket) -> Observed) throws {
        (listenFD, port) = try listenLoopback(ipv6: ipv6)
        self.timeout = timeout
        Thread { [self] in
            guard let socket = ServerSocket.accept(listenFD, timeout: timeout) else {
                finished.resolve(nil)
                return
            }
            let value = handler(socket)
            socket.close()
            finished.resolve(value)
        }.start()
    }

    deinit { Glibc.close(listenFD) }

    /// What the handler returned; waits (on this thread) at most `timeout` seconds. For synchronous tests.
    public func result() throws -> Observed {
        guard let value = finished.waitBlocking(timeout: Double(timeout)) ?? nil else {
            throw TestFailure("test server did not finish")
        }
        return value
    }

    /// What the handler returned, once it returns; at most `timeout` seconds. Suspends, blocks no thread.
    public func result() async throws -> Observed {
        guard let value = try await finished.value(timeout: Double(timeout), failure: "test server did not finish") else {
            throw TestFailure("test server did not finish")
        }
        return value
    }
}

/// How a server-side read ended.
public enum PeerEnd: Equatable, Sendable { case fin, rst, timeout, other(Int32) }

/// A server's accepted socket: blocking, with send and receive timeouts so a broken test cannot hang.
/// Used by one thread at a time (the connection's handler), hence `@unchecked Sendable`: it is
/// handed from the acceptor thread to the handler's.
public final class ServerSocket: @unchecked Sendable {
    public private(set) var fd: Int32
    public init(fd: Int32) { self.fd = fd }

    /// Waits for a connection on `listenFD` (`pollMs`, by default `timeout` seconds) and accepts
    /// it, with `timeout`-second send and receive timeouts on the new socket.
    static func accept(_ listenFD: Int32, timeout: Int, pollMs: Int32? = nil) -> ServerSocket? {
        var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, pollMs ?? Int32(timeout * 1000)) == 1 else { return nil }
        let conn = Glibc.accept(listenFD, nil, nil)
        guard conn >= 0 else { return nil }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return ServerSocket(fd: conn)
    }

    /// Reads until EOF or error; says which.
    public func readToEnd() -> (bytes: [UInt8], end: PeerEnd) {
        var bytes: [UInt8] = []
        while true {
            let (chunk, end) = readSome()
            bytes += chunk
            if let end { return (bytes, end) }
        }
    }

    /// Reads until `marker` appears in the bytes (or the stream ends).
    public func read(until marker: String) -> [UInt8] {
        var bytes: [UInt8] = []
        let needle = Array(marker.utf8)
        while !contains(bytes, needle) {
            let (chunk, end) = readSome()
            bytes += chunk
            if end != nil { break }
        }
        return bytes
    }

    /// Reads exactly `count` bytes (fewer if the stream ends first).
    public func read(count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - bytes.count), 0) }
            if n <= 0 { if n < 0, errno == EINTR { continue }; break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// One recv: bytes, or how the stream ended (neither after an EINTR).
    public func readSome() -> ([UInt8], PeerEnd?) {
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

    /// Writes all of `bytes`; false if the peer is gone (or the send timeout passed).
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    public func write(_ string: String) -> Bool { write(Array(string.utf8)) }

    /// SHUT_WR: a FIN.
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// SO_LINGER {1, 0} then close: an RST.
    public func reset() {
        guard fd >= 0 else { return }
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close()
    }

    /// Closes the socket, if it is still open.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    /// The peer's (client's) port.
    public var peerPort: Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }
        return withUnsafePointer(to: &storage) { raw in
            raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }
}
