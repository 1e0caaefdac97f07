import NIOCore
import NIOHTTP1
import NIOHTTP2
import TacetHTTP
import TacetHTTP2
import TacetProxy
import TacetTLS
import TacetTestSupport
import Testing

/// The proxy to an HTTP/2 upstream (h2c, issue #22): Tacet's own HTTP/2 server is the upstream,
/// answering as a gRPC service does (a streamed body, then trailers). Clients over HTTP/2 and
/// HTTP/1.1; many requests share one upstream connection.
@Suite("Proxy: HTTP/2 upstreams")
struct HTTP2UpstreamTests {
    /// Echoes the request body, then ends with trailers; says in its head what it was sent.
    struct TrailerEcho: Responder {
        func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
            TrailerEchoHandler(request: request, writer: writer)
        }
    }

    final class TrailerEchoHandler: RequestHandler {
        let request: Request
        let writer: ResponseWriter
        var body = ByteBuffer()
        init(request: Request, writer: ResponseWriter) {
            self.request = request
            self.writer = writer
        }
        func requestBodyPart(_ buffer: ByteBuffer) {
            var buffer = buffer
            body.writeBuffer(&buffer)
        }
        func requestEnded() {
            let headers: HTTPHeaders = [
                "content-type": "application/grpc",
                "x-te": request.headers.first(name: "te") ?? "-",
                "x-via": request.headers.first(name: "via") ?? "-",
                "x-path": request.target,
                "x-version": "\(request.version.major)",
            ]
            writer.writeHead(ResponseHead(status: .ok, headers: headers, body: .stream))
            writer.writeBody(body.readableBytes > 0 ? body : ByteBuffer(string: "empty"))
            writer.end(trailers: ["grpc-status": "0", "grpc-message": "ok"])
        }
        func cancel(_ reason: ConnectionEndReason) {}
    }

    static func upstreamServer() async throws -> LiveServer {
        try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: TrailerEcho())]
        }
    }

    static func proxy(to port: Int) async throws -> LiveServer {
        try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { group in
            var settings = Upstream.Settings()
            settings.http2 = true
            let upstream = Upstream(name: "h2", selector: SingleServer(host: "127.0.0.1", port: port), settings: settings, group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
    }

    @Test("An HTTP/2 client through to an h2c upstream: the body both ways, TE: trailers passed, the trailers relayed")
    func http2ClientTrailers() async throws {
        let origin = try await Self.upstreamServer()
        let live = try await Self.proxy(to: origin.port)
        try await whileRunning(live, origin) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/svc/Echo", method: "POST",
                                     extra: [("content-type", "application/grpc"), ("te", "trailers")], endStream: false)
            try await client.data(1, "ping", endStream: true)
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "ping")
            let blocks = response.headerBlocks
            #expect(blocks.count == 2, "\(blocks)")
            #expect(blocks.first?.first(name: "x-te") == "trailers")
            #expect(blocks.first?.first(name: "x-via") == "2.0 tacet")
            #expect(blocks.first?.first(name: "x-version") == "2")
            #expect(blocks.last?.first(name: "grpc-status") == "0")
            #expect(blocks.last?.first(name: "grpc-message") == "ok")
            #expect(response.endedCleanly)
            #expect(await live.waitForAccessLog(containing: "\"POST /svc/Echo HTTP/2.0\" 200"))
            #expect(live.accessLogLines.last?.hasSuffix(" complete grpc=0") == true, "\(live.accessLogLines)")
            await client.close()
        }
    }

    @Test("An HTTP/1.1 client through to an h2c upstream: answered chunked, the trailers in the last chunk")
    func http1ClientToH2Upstream() async throws {
        let origin = try await Self.upstreamServer()
        let live = try await Self.proxy(to: origin.port)
        try await whileRunning(live, origin) {
            let client = try await live.connect(sending: "POST /a/b?q=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            let text = String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.lowercased().contains("x-path: /a/b?q=1\r\n"), "\(text)")
            #expect(text.lowercased().contains("x-te: -\r\n"), "\(text)")
            #expect(text.contains("Transfer-Encoding: chunked"), "\(text)")
            #expect(text.hasSuffix("5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n"), "\(text)")
        }
    }

    @Test("200 streams from 4 clients share upstream connections up to the origin's 128 each, each answered with its own body")
    func manyStreamsOneConnection() async throws {
        let origin = try await Self.upstreamServer()
        let live = try await Self.proxy(to: origin.port)
        try await whileRunning(live, origin) {
            var clients: [HTTP2TestClient] = []
            for _ in 0..<4 { clients.append(try await HTTP2TestClient.connect(port: live.port)) }
            for (c, client) in clients.enumerated() {
                for i in 0..<50 {
                    let stream = 1 + 2 * i
                    try await client.request(stream, "/s", method: "POST", extra: [("content-length", "\(String(c * 100 + i).utf8.count)")],
                                             endStream: false)
                    try await client.data(stream, String(c * 100 + i), endStream: true)
                }
            }
            for (c, client) in clients.enumerated() {
                for i in 0..<50 {
                    let response = await client.waitForEnd(1 + 2 * i)
                    #expect(response.status == 200)
                    #expect(response.body == String(c * 100 + i))
                }
                await client.close()
            }
            // The origin (Tacet) allows 128 streams per connection: however many overlapped, two
            // connections at most carried the 200, and are kept open.
            let connections = origin.server.connectionCount
            #expect(connections >= 1 && connections <= 2, "\(connections)")
        }
    }

    @Test("A gRPC call Tacet cannot place (nothing listens upstream): a trailers-only answer, grpc-status 14 UNAVAILABLE")
    func grpcUnavailable() async throws {
        let live = try await Self.proxy(to: refusingPort())
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/svc/Echo", method: "POST",
                                     extra: [("content-type", "application/grpc"), ("te", "trailers")], endStream: true)
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.headerBlocks.count == 1, "trailers-only: one block, with END_STREAM")
            #expect(response.headerBlocks.first?.first(name: "grpc-status") == "14")
            #expect(response.headerBlocks.first?.first(name: "content-type") == "application/grpc")
            #expect(response.body.isEmpty)
            #expect(await live.waitForAccessLog(containing: "\"POST /svc/Echo HTTP/2.0\" 200"))
            #expect(live.accessLogLines.last?.hasSuffix(" grpc=14") == true, "\(live.accessLogLines)")
            await client.close()
        }
    }

    @Test("grpc-timeout is the call's deadline: past it, grpc-status 4 DEADLINE_EXCEEDED")
    func grpcTimeout() async throws {
        let gated = GatedResponder()
        let origin = try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: gated)]
        }
        let live = try await Self.proxy(to: origin.port)
        try await whileRunning(live, origin) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/svc/Slow", method: "POST",
                                     extra: [("content-type", "application/grpc"), ("grpc-timeout", "200m")], endStream: true)
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.headerBlocks.first?.first(name: "grpc-status") == "4")
            gated.release()
            await client.close()
        }
    }

    /// An HTTPS origin (Tacet) offering h2 by ALPN, or only HTTP/1.1, and a proxy with `protocol: h2` to it.
    static func tlsProxy(originOffersH2: Bool) async throws -> (origin: LiveServer, proxy: LiveServer) {
        let certificate = try TestCertificate.make(names: ["app.internal"])
        let tls = try ServerTLS(certificates: [try certificate.loaded], minimumVersion: .tlsv12, handshakeTimeout: .seconds(10),
                                http2: originOffersH2, logger: TLSTests.logger)
        let origin = try await LiveServer.start(prelude: tls, protocols: originOffersH2 ? HTTP2Protocols(mode: .alpn) : nil) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: TrailerEcho())]
        }
        let client = try ClientTLS(serverName: "app.internal", caFile: certificate.certPath, verify: true, alpn: ["h2"],
                                   logger: TLSTests.logger)
        let proxy = try await LiveServer.start { group in
            var settings = Upstream.Settings()
            settings.http2 = true
            settings.prelude = client
            let upstream = Upstream(name: "h2", selector: SingleServer(host: "127.0.0.1", port: origin.port), settings: settings, group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream))]
        }
        return (origin, proxy)
    }

    @Test("protocol: h2 to a verified HTTPS origin choosing h2 by ALPN: answered over HTTP/2 (scheme https), trailers relayed")
    func h2OverTLS() async throws {
        let (origin, proxy) = try await Self.tlsProxy(originOffersH2: true)
        try await whileRunning(proxy, origin) {
            let client = try await proxy.connect(sending: "POST /tls HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
            let text = String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.lowercased().contains("x-version: 2\r\n"), "the origin saw HTTP/2: \(text)")
            #expect(text.hasSuffix("2\r\nhi\r\n0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n"), "\(text)")
        }
    }

    @Test("protocol: h2 to an origin that offers only HTTP/1.1 by ALPN: the connection is refused, 502")
    func h2NotNegotiated() async throws {
        let (origin, proxy) = try await Self.tlsProxy(originOffersH2: false)
        try await whileRunning(proxy, origin) {
            let client = try await proxy.connect(sending: "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let text = String(decoding: await client.readToEnd(timeout: 10).bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 502 "), "\(text)")
        }
    }

    /// Answers a head and a part of its body, then gives up: over HTTP/2, an RST_STREAM.
    struct ResetMidAnswer: Responder {
        func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
            writer.writeHead(ResponseHead(status: .ok, body: .stream), flush: false)
            writer.writeBody(ByteBuffer(string: "part"), flush: false)
            writer.abandon(.serverClose)
            return nil
        }
    }

    @Test("The upstream resets a stream mid-answer: the client's stream is reset with CANCEL, logged 502 upstream_reset")
    func upstreamResetBecomesCancel() async throws {
        let origin = try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: ResetMidAnswer())]
        }
        let live = try await Self.proxy(to: origin.port)
        try await whileRunning(live, origin) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/cut")
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.reset == .cancel, "\(response.frames)")
            #expect(await live.waitForAccessLog(containing: "\"GET /cut HTTP/2.0\" 502"))
            #expect(live.accessLogLines.last?.hasSuffix("upstream_reset") == true, "\(live.accessLogLines)")
            await client.close()
        }
    }
}
