import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback server that handles every connection on its own Thread until stopped: for running a
/// whole probe suite (one connection per scenario) against a chosen behaviour.
final class MultiServer: @unchecked Sendable {
    let port: Int
    private let listenFD: Int32
    private let lock = NSLock()
    private var stopped = false
    private let acceptorDone = DispatchSemaphore(value: 0)

    init(handler: @escaping @Sendable (ServerSocket) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0, bindLoopback(fd, ipv6: false, port: 0) == 0, listen(fd, 64) == 0 else {
            if fd >= 0 { Glibc.close(fd) }
            throw TestError("cannot listen")
        }
        listenFD = fd
        port = boundPort(fd)
        Thread { [self] in
            while !isStopped {
                var p = pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 50) == 1 else { continue }
                let conn = accept(listenFD, nil, nil)
                guard conn >= 0 else { continue }
                var tv = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                let socket = ServerSocket(fd: conn)
                Thread {
                    handler(socket)
                    socket.closeIfOpen()
                }.start()
            }
            acceptorDone.signal()
        }.start()
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    /// Stops accepting and waits for the acceptor to leave; handlers finish on their own.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first { _ = acceptorDone.wait(timeout: .now() + 5) }
        Glibc.close(listenFD)
    }
}

extension ServerSocket {
    /// Reads requests (head + Content-Length body) as they complete, calling `onRequest` for each,
    /// until the client's FIN or RST. Returns how the client's side ended.
    @discardableResult
    func serveRequests(_ onRequest: (Int) -> Void) -> PeerEnd {
        var buffer: [UInt8] = []
        var served = 0
        while true {
            while let length = requestLength(buffer) {
                buffer.removeFirst(length)
                served += 1
                onRequest(served)
            }
            let (chunk, end) = readSome()
            buffer += chunk
            if let end { return end }
        }
    }

    /// One recv: bytes, or how the stream ended.
    func readSome() -> ([UInt8], PeerEnd?) {
        var bytes = [UInt8](repeating: 0, count: 65_536)
        let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { return (Array(bytes[0..<n]), nil) }
        if n == 0 { return ([], .fin) }
        let code = errno
        return ([], code == ECONNRESET ? .rst : code == EAGAIN ? .timeout : .other(code))
    }

    /// Waits up to `ms` for the client to send something or end; nil if it stayed silent.
    func waitForClient(ms: Int32) -> PeerEnd? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, ms) == 1 else { return nil }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK))
        if n == 0 { return .fin }
        if n < 0 { return errno == ECONNRESET ? .rst : .other(errno) }
        return nil
    }
}

/// Length of the first whole request in `buffer` (head plus Content-Length body), if there is one.
func requestLength(_ buffer: [UInt8]) -> Int? {
    let marker = Array("\r\n\r\n".utf8)
    guard buffer.count >= 4 else { return nil }
    for i in 0...(buffer.count - 4) where buffer[i..<(i + 4)].elementsEqual(marker) {
        let head = String(decoding: buffer[0..<i], as: UTF8.self).lowercased()
        var bodyLength = 0
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let total = i + 4 + bodyLength
        return buffer.count >= total ? total : nil
    }
    return nil
}
