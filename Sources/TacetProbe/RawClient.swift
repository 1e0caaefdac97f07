#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A raw TCP client that can do whatever a misbehaving client does (half-close, close, reset at any
/// moment) and reports exactly what came back: FIN (recv returned 0) versus RST (ECONNRESET).
///
/// The socket stays non-blocking and every wait goes through poll(2) with a deadline, so no call
/// outlives its timeout. Everything is stamped in milliseconds since `connect` began, in `timeline`.
/// Not thread-safe: one client belongs to one thread.
public final class RawClient {
    /// Events so far, in order.
    public private(set) var timeline: [TimelineEvent] = []
    /// Every byte received on this connection, across calls.
    public private(set) var received: [UInt8] = []
    /// Methods of the requests written, in order: tells the response parser which answers are to HEAD.
    public var requestMethods: [String] = []
    /// Seconds a single `write` may wait for the peer to accept bytes.
    public var writeTimeout: Double = 10
    /// The local port (the probe's ephemeral port), for matching server logs.
    public let localPort: Int
    /// A description of the peer address actually connected to.
    public let remoteAddress: String

    private var fd: Int32
    private let clock: Stopwatch
    /// Bytes received while a write waited: handed to the next read.
    private var pending: [UInt8] = []
    /// Set once the peer's FIN or RST has been seen: later reads return at once.
    private var peerEnd: StreamEnd?
    private var tracker = ResponseTracker()

    private init(fd: Int32, clock: Stopwatch, remote: String) {
        self.fd = fd
        self.clock = clock
        self.remoteAddress = remote
        self.localPort = SocketAddress.localPort(of: fd)
        record(.connected, remote)
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Milliseconds since connect began.
    public var elapsedMs: Double { clock.elapsedMs }

    /// CLOCK_MONOTONIC milliseconds when connect began: the zero of `timeline`.
    public var startMs: Double { Double(clock.startNs) / 1_000_000 }

    // MARK: Connecting

    /// Connects to each address of `host` in turn (IPv4 or IPv6) with a non-blocking connect, all
    /// within `timeout` seconds. TCP_NODELAY is set so that each write leaves when it is made.
    /// `label` names the peer in the timeline instead of the address (a relay's real target).
    public static func connect(host: String, port: Int, timeout: Double = 5, label: String? = nil) throws -> RawClient {
        let clock = Stopwatch()
        guard (1...65535).contains(port) else {
            throw RawClientError(kind: .invalidArgument, message: "invalid port \(port)")
        }
        let deadline = Deadline(seconds: timeout)
        var lastError = RawClientError(kind: .connect, message: "cannot connect to \(host):\(port)")
        for address in try SocketAddress.resolve(host: host, port: port) {
            do {
                let fd = try connectOne(address, deadline: deadline, timeout: timeout)
                return RawClient(fd: fd, clock: clock, remote: label ?? address.description)
            } catch let error as RawClientError {
                lastError = error
                if deadline.isExpired { break }
            }
        }
        throw lastError
    }

    private static func connectOne(_ address: SocketAddress, deadline: Deadline, timeout: Double) throws -> Int32 {
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        let fd = socket(address.family, type, Int32(IPPROTO_TCP))
        guard fd >= 0 else {
            throw RawClientError(kind: .connect, message: "socket(): \(errnoName(errno))", errno: errno)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        var code: Int32 = rc == 0 ? 0 : errno
        if rc != 0 && code == EINPROGRESS {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var ready: Int32 = 0
            repeat {
                ready = poll(&p, 1, deadline.pollMs)
            } while ready < 0 && errno == EINTR && !deadline.isExpired
            if ready <= 0 {
                Glibc.close(fd)
                throw RawClientError(kind: .connectTimeout,
                                     message: "connecting to \(address.description) timed out after \(formatSeconds(timeout))",
                                     errno: ETIMEDOUT)
            }
            var length = socklen_t(MemoryLayout<Int32>.size)
            code = 0
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        }
        guard code == 0 else {
            Glibc.close(fd)
            if code == ECONNREFUSED {
                throw RawClientError(kind: .refused, message: "connection refused by \(address.description)", errno: code)
            }
            throw RawClientError(kind: .connect,
                                 message: "cannot connect to \(address.description): \(String(cString: strerror(code)))", errno: code)
        }
        return fd
    }

    // MARK: Writing

    public func write(_ string: String) throws { try write(Array(string.utf8)) }

    /// Writes all of `bytes` (MSG_NOSIGNAL: never SIGPIPE), waiting at most `writeTimeout`. While the
    /// peer is not accepting bytes, whatever it sends is read into the next read's buffer, so an early
    /// response, FIN or RST is seen as it happens. Throws with `isPeerReset` or `isBrokenPipe` set.
    public func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw RawClientError(kind: .notConnected, message: "write after close") }
        let deadline = Deadline(seconds: writeTimeout)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 { offset += sent; continue }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                if peerEnd == .rst { throw writeFailed(.peerReset, "RST from peer", ECONNRESET, offset, bytes.count) }
                let events = peerEnd == nil ? Int16(POLLOUT | POLLIN) : Int16(POLLOUT)
                var p = pollfd(fd: fd, events: events, revents: 0)
                let ready = poll(&p, 1, deadline.pollMs)
                if ready == 0 || deadline.isExpired {
                    throw writeFailed(.writeTimeout, "timed out after \(formatSeconds(writeTimeout))", ETIMEDOUT, offset, bytes.count)
                }
                if ready > 0, peerEnd == nil, p.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                    receiveOnce(into: &pending)
                    if peerEnd == .rst { throw writeFailed(.peerReset, "RST from peer", ECONNRESET, offset, bytes.count) }
                }
                continue
            }
            switch code {
            case EPIPE: throw writeFailed(.brokenPipe, "EPIPE", code, offset, bytes.count)
            case ECONNRESET: throw writeFailed(.peerReset, "ECONNRESET", code, offset, bytes.count)
            default: throw writeFailed(.io, errnoName(code), code, offset, bytes.count)
            }
        }
        record(.written, "\(bytes.count) bytes")
    }

    private func writeFailed(_ kind: RawClientError.Kind, _ why: String, _ code: Int32, _ done: Int, _ total: Int) -> RawClientError {
        record(.writeFailed, "\(why) after \(done) of \(total) bytes")
        if kind == .peerReset && peerEnd == nil { peerEnd = .rst; record(.rst, "ECONNRESET on send") }
        return RawClientError(kind: kind, message: "write failed: \(why) after \(done) of \(total) bytes", errno: code, bytesWritten: done)
    }

    // MARK: Ending our side

    /// shutdown(SHUT_WR): sends a FIN and keeps reading: "I will send nothing more", not "I am gone".
    public func shutdownWrite() throws {
        guard fd >= 0 else { throw RawClientError(kind: .notConnected, message: "shutdown after close") }
        if shutdown(fd, Int32(SHUT_WR)) != 0 {
            let code = errno
            record(.shutdownWrite, "failed: \(errnoName(code))")
            throw RawClientError(kind: code == ENOTCONN ? .peerReset : .io, message: "shutdown(SHUT_WR) failed: \(errnoName(code))", errno: code)
        }
        record(.shutdownWrite)
    }

    /// A plain close(2): a FIN, and the kernel answers any later data from the peer with an RST.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
        record(.closed)
    }

    /// SO_LINGER {1, 0} then close(2): the kernel sends an RST instead of a FIN.
    public func reset() {
        guard fd >= 0 else { return }
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
        fd = -1
        record(.reset)
    }

    // MARK: Reading

    /// Reads until the peer's FIN or RST, or until `timeout` seconds pass.
    public func readToEnd(timeout: Double) -> ReadResult {
        readLoop(timeout: timeout) { _ in false }
    }

    /// Reads until `predicate(all bytes of this call)` holds (end `.open`), or FIN, RST or timeout.
    public func read(until predicate: ([UInt8]) -> Bool, timeout: Double) -> ReadResult {
        readLoop(timeout: timeout, stop: predicate)
    }

    /// Reads until `count` complete final responses are in this call's bytes, or FIN, RST or timeout.
    /// Responses are matched with `requestMethods` from its start, so call it before reading any.
    public func readResponses(count: Int, timeout: Double) -> ReadResult {
        let methods = requestMethods
        return readLoop(timeout: timeout) { bytes in
            HTTPResponseParser.scan(bytes, requestMethods: methods, endedWithFIN: false).frames
                .count { !$0.isInterim && $0.isComplete } >= count
        }
    }

    /// One read call: pending bytes first, then poll + recv until the stop condition or an end.
    /// After close() or reset() there is no socket: it returns at once with `.timeout`.
    private func readLoop(timeout: Double, stop: ([UInt8]) -> Bool) -> ReadResult {
        let deadline = Deadline(seconds: timeout)
        var buffer = pending
        pending = []
        while true {
            if !buffer.isEmpty && stop(buffer) { return ReadResult(bytes: buffer, end: .open, elapsedMs: elapsedMs) }
            if let end = peerEnd { return ReadResult(bytes: buffer, end: end, elapsedMs: elapsedMs) }
            guard fd >= 0 else { return ReadResult(bytes: buffer, end: .timeout, elapsedMs: elapsedMs) }
            let waitMs = deadline.pollMs
            if waitMs == 0 {
                let ms = elapsedMs
                appendEvents(tracker.streamEnded(received, methods: requestMethods, endedWithFIN: false, at: ms))
                record(.timeout, "after \(formatSeconds(timeout))", at: ms)
                return ReadResult(bytes: buffer, end: .timeout, elapsedMs: ms)
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, waitMs)
            if ready > 0 { receiveOnce(into: &buffer) }
        }
    }

    /// One non-blocking recv: appends data, or notes the peer's FIN or RST, with their timeline events.
    private func receiveOnce(into buffer: inout [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress else { return 0 }
            return recv(fd, base, raw.count, 0)
        }
        let ms = elapsedMs
        if n > 0 {
            if received.isEmpty { record(.firstByte, at: ms) }
            buffer.append(contentsOf: chunk[0..<n])
            received.append(contentsOf: chunk[0..<n])
            appendEvents(tracker.update(received, methods: requestMethods, endedWithFIN: false, at: ms))
            return
        }
        if n == 0 {
            peerEnd = .fin
            appendEvents(tracker.streamEnded(received, methods: requestMethods, endedWithFIN: true, at: ms))
            record(.fin, at: ms)
            return
        }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return }
        peerEnd = .rst
        appendEvents(tracker.streamEnded(received, methods: requestMethods, endedWithFIN: false, at: ms))
        record(.rst, code == ECONNRESET ? "" : errnoName(code), at: ms)
    }

    // MARK: Timeline

    private func record(_ kind: TimelineEvent.Kind, _ detail: String = "", at ms: Double? = nil) {
        timeline.append(TimelineEvent(ms: ms ?? elapsedMs, kind: kind, detail: detail))
    }

    private func appendEvents(_ events: [TimelineEvent]) { timeline.append(contentsOf: events) }
}

/// "1 s", "0.5 s": seconds as a person writes them.
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}
