import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Monotonic milliseconds, the clock every origin record and probe timeline share.
public func monotonicMs() -> Double { Double(Stopwatch.nowNs()) / 1_000_000 }

/// One accepted connection of the origin, blocking with poll(2) deadlines: what came in is kept
/// in `buffer`, and a FIN or RST is noted once (`end`), with when.
final class OriginSocket {
    let fd: Int32
    var buffer: [UInt8] = []
    /// Past this, what arrives is read and dropped (a request body is at most 8 MiB).
    static let maxBuffered = OriginRequestParser.maxBodyBytes + OriginRequestParser.maxHeadBytes + 64 * 1024
    private(set) var end: StreamEnd?
    private(set) var endMs: Double?

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    deinit { Glibc.close(fd) }

    /// Waits up to `ms` for bytes, a FIN or an RST; returns false when nothing came (or the end
    /// was already seen).
    @discardableResult
    func receive(waitingMs ms: Double) -> Bool {
        guard end == nil else { return false }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let until = monotonicMs() + max(0, ms)
        var ready: Int32
        repeat {
            ready = poll(&p, 1, Int32(max(0, min(until - monotonicMs(), Double(Int32.max))).rounded(.up)))
        } while ready < 0 && errno == EINTR
        guard ready > 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return recv(fd, base, raw.count, 0)
        }
        if n > 0 {
            // Bounded: nothing the origin answers needs more than a request and a few behind it.
            if buffer.count < Self.maxBuffered { buffer.append(contentsOf: chunk[0..<n]) }
            return true
        }
        if n < 0, [EAGAIN, EWOULDBLOCK, EINTR].contains(errno) { return false }
        end = n == 0 ? .fin : .rst
        endMs = monotonicMs()
        return true
    }

    /// Receives until `deadlineMs` (monotonic), or an end; bytes keep arriving into `buffer`.
    func watch(untilMs deadlineMs: Double) {
        while end != .rst {
            let left = deadlineMs - monotonicMs()
            guard left > 0 else { return }
            if end == .fin {
                // Nothing more can arrive but an RST: poll for it without spinning.
                var p = pollfd(fd: fd, events: Int16(POLLERR), revents: 0)
                _ = poll(&p, 1, Int32(left.rounded(.up)))
                if p.revents & Int16(POLLERR | POLLHUP) != 0 { end = .rst; endMs = monotonicMs() }
                if p.revents == 0 { return }
                continue
            }
            receive(waitingMs: left)
        }
    }

    /// Writes all of `bytes` within 10 s; false when the peer reset or would not take them.
    func write(_ bytes: ArraySlice<UInt8>) -> Bool {
        var offset = 0
        let deadline = Deadline(seconds: 10)
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 { offset += sent; continue }
            if sent < 0, errno == EINTR { continue }
            guard sent < 0, errno == EAGAIN || errno == EWOULDBLOCK, !deadline.isExpired else {
                if end != .rst, sent < 0, errno == ECONNRESET || errno == EPIPE { end = .rst; endMs = endMs ?? monotonicMs() }
                return false
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, deadline.pollMs)
        }
        return true
    }

    /// Our FIN, then reads (discarding) until the peer's end or `seconds`: a staged close, so our
    /// last answer is not destroyed by an RST.
    func finishStaged(seconds: Double = 5) {
        shutdown(fd, Int32(SHUT_WR))
        let deadline = monotonicMs() + seconds * 1000
        while end == nil, monotonicMs() < deadline {
            receive(waitingMs: deadline - monotonicMs())
            if buffer.count > 1 << 20 { buffer.removeAll(keepingCapacity: true) }
        }
    }
}

/// A listening socket on the origin's address (SO_REUSEADDR), and its accept loop on a thread.
final class OriginListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    /// Connections served at once, a thread each: past this, new ones are closed at once.
    static let maxConnections = 256
    private let active = NSLock()
    private var count = 0
    /// Set by `stop()`, under `active`: the loop ends only then, and closes the socket itself.
    private var stopped = false

    init(host: String, port: Int) throws {
        let addresses = try SocketAddress.resolve(host: host, port: port)
        var address = addresses[0]
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("origin: socket() failed: \(errnoName(errno))") }
        var one: Int32 = 1
        // A fixed port may be taken again at once after a restart; port 0 must not share one
        // with a socket that is bound but not listening (Linux would allow it with SO_REUSEADDR).
        if port != 0 { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard bound == 0, listen(fd, 512) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw ProbeError("origin: cannot listen on \(host):\(port): \(errnoName(code))")
        }
        self.fd = fd
        self.port = SocketAddress.localPort(of: fd)
    }

    /// Accepts until `stop()`, each connection handed to `handle` on a thread of its own. The
    /// loop closes the listening socket itself when it ends: closed from another thread, its
    /// number could be reused (by anything) while this thread still calls accept on it.
    func run(_ handle: @escaping @Sendable (OriginSocket) -> Void) {
        let fd = self.fd
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if self.isStopped {
                        // Closed under the lock: `stop()`'s shutdown never meets a reused number.
                        _ = self.active.withLock { Glibc.close(fd) }
                        return
                    }
                    // EMFILE, ENOBUFS...: the origin stays up; try again shortly.
                    if errno != EINTR && errno != ECONNABORTED { usleep(10_000) }
                    continue
                }
                guard self.enter() else {
                    Glibc.close(client)
                    continue
                }
                Thread.detachNewThread {
                    handle(OriginSocket(fd: client))
                    self.leave()
                }
            }
        }
    }

    private func enter() -> Bool {
        active.withLock {
            guard count < Self.maxConnections else { return false }
            count += 1
            return true
        }
    }

    private func leave() { active.withLock { count -= 1 } }

    /// Closes a listener whose loop never started.
    func close() { Glibc.close(fd) }

    private var isStopped: Bool { active.withLock { stopped } }

    /// Ends the accept loop: shutdown on a listening socket wakes a blocked accept (Linux).
    func stop() {
        active.withLock {
            guard !stopped else { return }
            stopped = true
            shutdown(fd, Int32(SHUT_RDWR))
        }
    }
}
