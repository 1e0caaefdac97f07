import NIOCore
import TacetHTTP
import TacetHTTP2
import TacetProxy
import TacetTestSupport
import TacetTLS
import Testing

/// The same request over HTTP/1.1 and over HTTP/2, on one TLS listener that offers both: what
/// the user sees must agree, because one exchange core serves both. The proxied request says
/// `X-Forwarded-Proto: https` and names its own protocol in Via; an oversized header list is 431
/// and an overlong target 414 on both, with the same short reason.
@Suite("HTTP/1.1 and HTTP/2 agree")
struct ProtocolAgreementTests {
    static func server(backend: TestBackend, certificate: TestCertificate,
                       settings: ServerSettings = ServerSettings()) async throws -> LiveServer {
        let tls = try ServerTLS(certificates: [try certificate.loaded], minimumVersion: .tlsv12, handshakeTimeout: .seconds(10),
                                http2: true, logger: TLSTests.logger)
        return try await LiveServer.start(settings: settings, prelude: tls, protocols: HTTP2Protocols(mode: .alpn)) { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream, policy: .serve))]
        }
    }

    /// Opens clients of either protocol to the listener, trusting its certificate.
    struct Clients {
        let port: Int
        let certificate: TestCertificate

        func http1() async throws -> TLSTestClient {
            try await TLSTestClient.connect(port: port, serverName: "localhost", trusting: [certificate.certificate],
                                            group: TLSTests.group)
        }

        func http2() async throws -> HTTP2TestClient {
            try await HTTP2TestClient.connect(port: port, trusting: [certificate.certificate])
        }
    }

    /// The listener (proxying to a fresh backend) for the length of `body`.
    static func withServer(settings: ServerSettings = ServerSettings(),
                           _ body: (LiveServer, TestBackend, Clients) async throws -> Void) async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let backend = try await TestBackend(timing: .immediate)
        let live = try await server(backend: backend, certificate: certificate, settings: settings)
        try await whileRunning(live, backend) {
            try await body(live, backend, Clients(port: live.port, certificate: certificate))
        }
    }

    @Test("Proxied over TLS: X-Forwarded-Proto https on both; Via 1.1 and 2.0")
    func forwardedProtoAndVia() async throws {
        try await Self.withServer { live, backend, clients in
            let http1 = try await clients.http1()
            try await http1.send(get("/one", "Connection: close\r\n"))
            let (text, _) = await http1.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
            await http1.close()
            let h2 = try await clients.http2()
            try await h2.request(1, "/two")
            #expect(await h2.waitForEnd(1).status == 200)
            await h2.close()
            let seen = backend.recorder.all
            #expect(seen.contains("proto https /one") && seen.contains("proto https /two"), "\(seen)")
            #expect(seen.contains { $0.hasPrefix("request GET /one") && $0.contains("via=1.1 tacet") }, "\(seen)")
            #expect(seen.contains { $0.hasPrefix("request GET /two") && $0.contains("via=2.0 tacet") }, "\(seen)")
        }
    }

    /// (NIOHTTP2's client cannot send a header list over the advertised limit: HTTP/2's 431 is
    /// shown from raw frames in HTTP2LimitsTests.headerListTooLarge.)
    @Test("An oversized header list is 431 and an overlong target 414, with the same reason on both")
    func refusalsAgree() async throws {
        try await Self.withServer { live, backend, clients in
            let bigField = String(repeating: "v", count: 7_000)
            let fields = (0..<6).map { ("x-big-\($0)", bigField) }
            let longPath = "/" + String(repeating: "a", count: 9_000)
            for (path, extra, status, reason) in [("/fields", fields, 431, "request header fields too large"),
                                                  (longPath, [], 414, "request line too long")] {
                let http1 = try await clients.http1()
                try await http1.send(get(path, extra.map { "\($0.0): \($0.1)\r\n" }.joined()))
                let (text, _) = await http1.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 \(status)"), "\(text.prefix(80))")
                #expect(text.hasSuffix("\r\n\r\n\(reason)\n"), "\(text.suffix(80))")
                await http1.close()
                guard extra.isEmpty else { continue }
                let h2 = try await clients.http2()
                try await h2.request(1, path, extra: extra)
                let response = await h2.waitForEnd(1)
                #expect(response.status == status)
                #expect(response.body == "\(reason)\n")
                await h2.close()
            }
            #expect(!backend.recorder.all.contains { $0.hasPrefix("request") }, "\(backend.recorder.all)")
            // The 431's line is logged as nginx logs it; the 414's target was never read whole.
            #expect(await live.waitForAccessLog(containing: "\"GET /fields HTTP/1.1\" 431"), "\(live.accessLogLines)")
            #expect(await live.waitForAccessLog(containing: "\"-\" 414"), "\(live.accessLogLines)")
        }
    }

    @Test("A body over the limit: 413 with the same reason, logged server_close on both (not complete)")
    func tooLargeLoggedAlike() async throws {
        try await Self.withServer { live, backend, clients in
            let http1 = try await clients.http1()
            try await http1.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n")
            let (text, _) = await http1.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 413") && text.hasSuffix("request body too large\n"), "\(text)")
            await http1.close()
            let h2 = try await clients.http2()
            try await h2.request(1, "/up", method: "POST", extra: [("content-length", "2000000")], endStream: false)
            let response = await h2.waitForEnd(1)
            #expect(response.status == 413 && response.body == "request body too large\n")
            #expect(await eventually { live.accessLogLines.filter { $0.contains(" 413 ") }.count == 2 }, "\(live.accessLogLines)")
            for line in live.accessLogLines where line.contains(" 413 ") {
                #expect(line.hasSuffix("server_close"), "\(line)")
            }
            await h2.close()
        }
    }

    /// Admission is one piece of code for both protocols: the same client's second request is
    /// over `requests_per_second` whichever protocol carries it, and the refusal reads the same.
    @Test("Over the request rate: 429 with Retry-After and the same reason on both, the route not reached")
    func rateLimitAgrees() async throws {
        var settings = ServerSettings()
        settings.clientLimiter = ClientLimiter(.init(requestsPerSecond: 0.001, burst: 0))
        try await Self.withServer(settings: settings) { live, backend, clients in
            let http1 = try await clients.http1()
            try await http1.send(get("/first", "") + get("/second", "Connection: close\r\n"))
            let (text, _) = await http1.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 200"), "\(text)")
            #expect(text.contains("HTTP/1.1 429 Too Many Requests\r\n") && text.contains("Retry-After: "), "\(text)")
            #expect(text.hasSuffix("\r\n\r\ntoo many requests\n"), "\(text)")
            await http1.close()
            let h2 = try await clients.http2()
            try await h2.request(1, "/third")
            let response = await h2.waitForEnd(1)
            #expect(response.status == 429 && response.body == "too many requests\n")
            #expect(response.headerBlocks.first?.first(name: "retry-after") != nil)
            #expect(response.headerBlocks.first?.first(name: "content-type") == ErrorResponse.contentType)
            await h2.close()
            let seen = backend.recorder.all.filter { $0.hasPrefix("request") }
            #expect(seen.count == 1 && seen[0].hasPrefix("request GET /first"), "\(seen)")
        }
    }
}
