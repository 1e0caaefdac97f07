import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A loopback server that handles every connection on its own Thread until stopped: for many
/// clients at once, or a whole probe suite (one connection per scenario), against a chosen
/// behaviour. Sockets get `timeout`-second send and receive timeouts.
public final class MultiServer: Stoppable {
    public let port: Int
    private let listenFD: Int32
    private let stopped = Atomic<Bool>(false)
    private let acceptorDone = OneShot<Void>()

    public init(timeout: Int = 10, handler: @escaping @Sendable (ServerSocket) -> Void) throws {
        (listenFD, port) = try listenLoopback(backlog: 256)
        Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                // Short accept waits, so that `stop` is noticed quickly.
                guard let socket = ServerSocket.accept(listenFD, timeout: timeout, pollMs: 50) else { continue }
                Thread {
                    handler(socket)
                    socket.close()
                }.start()
            }
            acceptorDone.resolve(())
        }.start()
    }

    /// Stops accepting and waits (this thread, at most 5 s) for the acceptor to leave; handlers
    /// finish on their own. For synchronous tests.
    public func stop() {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            _ = acceptorDone.waitBlocking(timeout: 5)
            Glibc.close(listenFD)
        }
    }

    /// Stops accepting and waits for the acceptor to leave (at most 5 s), suspending.
    public func stop() async {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            _ = try? await acceptorDone.value(timeout: 5, failure: "acceptor did not stop")
            Glibc.close(listenFD)
        }
    }
}

extension ServerSocket {
    /// Reads requests (head + Content-Length body) as they complete, calling `onRequest` for each,
    /// until the client's FIN or RST. Returns how the client's side ended.
    @discardableResult
    public func serveRequests(_ onRequest: (Int) -> Void) -> PeerEnd {
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

    /// Waits up to `ms` for the client to send something or end; nil if it stayed silent.
    public func waitForClient(ms: Int32) -> PeerEnd? {
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
public func requestLength(_ buffer: [UInt8]) -> Int? {
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
