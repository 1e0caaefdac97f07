import Logging
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import TacetHTTP
@testable import TacetProxy

/// Bytes an upstream sends past the end of a response answer no request: the connection is
/// closed, never pooled, and the event reported with its byte count (nginx: "upstream sent more
/// data than specified"). On an `EmbeddedChannel`, so each read boundary is exact.
@Suite("Upstream connection: bytes past a response's end")
struct UpstreamExtraBytesTests {
    /// One upstream connection on an EmbeddedChannel, with a pool and an exchange stand-in that
    /// lets go of the connection for reuse at the response's end, as `ProxyExchange` does.
    final class Rig: UpstreamConnectionDelegate {
        let channel = EmbeddedChannel()
        let pool: UpstreamPool
        let observer = ProtocolErrors()
        var connection: UpstreamConnection!
        var events: [String] = []
        var failed = false

        init() throws {
            pool = UpstreamPool(eventLoop: channel.embeddedEventLoop, maxIdlePerServer: 4)
            let handler = UpstreamChannelHandler()
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            let report = UpstreamReport(upstream: "app", server: "127.0.0.1:9", logger: Logger(label: "t"), observer: observer)
            connection = UpstreamConnection(channel: channel, server: 0, handler: handler, report: report)
        }

        deinit { _ = try? channel.finish(acceptAlreadyClosed: true) }

        /// The exchange sends a request and waits for its response.
        func request(_ method: String = "GET") {
            connection.attach(self)
            var head = connection.headBuffer(capacity: 64)
            head.writeString("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n")
            connection.writeHead(head, isHEAD: method == "HEAD", flush: true)
        }

        /// One `channelRead` from the upstream.
        func read(_ bytes: String) throws { channel.pipeline.fireChannelRead(ByteBuffer(string: bytes)) }
        /// The end of a read event: what `channelRead`s it had are all handled.
        func readComplete() { channel.pipeline.fireChannelReadComplete() }

        var pooled: Int { pool.idleCountSnapshot }

        func upstreamReceived(_ event: UpstreamResponseParser.Event) {
            switch event {
            case .head(let head): events.append("head \(head.status.code)")
            case .body(let buffer): events.append("body \(String(buffer: buffer))")
            case .end:
                events.append("end")
                connection.release(reuse: true, to: pool)
            }
        }
        func upstreamFailed() { failed = true }
        func upstreamWritabilityChanged(_ writable: Bool) {}
        func upstreamReadComplete() {}
    }

    final class ProtocolErrors: HTTPObserver {
        let seen = Mutex<[String]>([])
        var all: [String] { seen.withLock { $0 } }
        func upstreamProtocolError(upstream: String, reason: String, bytes: Int) {
            seen.withLock { $0.append("\(upstream) \(reason) \(bytes)") }
        }
        func connectionOpened() {}
        func connectionClosed(reason: ConnectionEndReason) {}
        func bytesTransferred(in: Int, out: Int) {}
        func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {}
        func probeSent(route: String) {}
        func probeAnsweredByReset(route: String) {}
    }

    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    static let evil = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"

    @Test("A clean response: pooled once the read is handled completely, not in the middle of it")
    func pooledAfterTheRead() throws {
        let rig = try Rig()
        rig.request()
        try rig.read(Self.ok)
        #expect(rig.events == ["head 200", "body ok", "end"])
        #expect(rig.pooled == 0, "pooled while its read was still being handled")
        rig.readComplete()
        #expect(rig.pooled == 1)
        #expect(rig.channel.isActive)
        #expect(rig.observer.all.isEmpty)
    }

    @Test("Extra bytes in the same read as the response: closed, never pooled, reported with their count")
    func sameRead() throws {
        let rig = try Rig()
        rig.request()
        try rig.read(Self.ok + Self.evil)
        rig.readComplete()
        #expect(rig.events == ["head 200", "body ok", "end"])
        #expect(rig.pooled == 0)
        #expect(!rig.channel.isActive)
        #expect(rig.observer.all == ["app extra_bytes \(Self.evil.utf8.count)"])
        #expect(!rig.failed, "the response itself was whole")
    }

    @Test("Extra bytes in the next read of the same read event: closed, never pooled")
    func nextReadSameEvent() throws {
        let rig = try Rig()
        rig.request()
        try rig.read(Self.ok)
        try rig.read(Self.evil)
        rig.readComplete()
        #expect(rig.pooled == 0)
        #expect(!rig.channel.isActive)
        #expect(rig.observer.all == ["app extra_bytes \(Self.evil.utf8.count)"])
    }

    @Test("Extra bytes while idle in the pool: taken out of the pool and closed")
    func whileIdle() throws {
        let rig = try Rig()
        rig.request()
        try rig.read(Self.ok)
        rig.readComplete()
        #expect(rig.pooled == 1)
        try rig.read("x")
        rig.readComplete()
        #expect(rig.pooled == 0)
        #expect(rig.pool.take(server: 0) == nil)
        #expect(!rig.channel.isActive)
        #expect(rig.observer.all == ["app extra_bytes 1"])
    }

    @Test("After a chunked response's last chunk, after a 204, after a response to HEAD: the rest is extra",
          arguments: [
            ("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", ["head 200", "body ok", "end"]),
            ("GET", "HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\n", ["head 204", "end"]),
            ("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", ["head 200", "end"]),
          ])
    func afterBodylessOrChunked(_ method: String, _ response: String, _ expected: [String]) throws {
        let rig = try Rig()
        rig.request(method)
        try rig.read(response + "EVIL")
        rig.readComplete()
        #expect(rig.events == expected)
        #expect(rig.pooled == 0)
        #expect(!rig.channel.isActive)
        #expect(rig.observer.all == ["app extra_bytes 4"])
    }

    @Test("A 1xx followed by garbage: an invalid response, reported with its reason, the exchange told")
    func interimThenGarbage() throws {
        let rig = try Rig()
        rig.request()
        try rig.read("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nnot http at all\r\n\r\n")
        #expect(rig.events == ["head 103"])
        #expect(rig.failed)
        #expect(!rig.channel.isActive)
        #expect(rig.observer.all == ["app invalid_response 0"])
    }

    @Test("A response cut short by the upstream's FIN: reported as closed_early, the exchange told")
    func closedEarly() throws {
        let rig = try Rig()
        rig.request()
        try rig.read("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
        rig.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(rig.failed)
        #expect(rig.observer.all == ["app closed_early 0"])
    }
}
