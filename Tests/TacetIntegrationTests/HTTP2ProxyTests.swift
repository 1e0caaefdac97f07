import NIOCore
import NIOHTTP2
import TacetHTTP
import TacetHTTP2
import TacetProxy
import TacetTestSupport
import Testing

/// The reverse proxy behind HTTP/2 streams, to an HTTP/1.1 upstream through the same pools:
/// a stream answered, a POST body passed on, and RST_STREAM cancelling the upstream request
/// at once under every policy (the upstream connection closed, never pooled).
@Suite("HTTP/2: reverse proxy")
struct HTTP2ProxyTests {
    static func proxy(to backend: TestBackend, policy: ClientFINPolicy = .serve) async throws -> LiveServer {
        try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: Upstream.Settings(), group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream, policy: policy))]
        }
    }

    @Test("A GET and a POST over h2, answered by an HTTP/1.1 upstream")
    func proxied() async throws {
        let backend = try await TestBackend(timing: .immediate)
        let live = try await Self.proxy(to: backend)
        try await whileRunning(live, backend) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/api/a")
            let get = await client.waitForEnd(1)
            #expect(get.status == 200)
            #expect(get.body == "backend says hi\n")
            try await client.request(3, "/api/b", method: "POST", extra: [("content-length", "11")], endStream: false)
            try await client.data(3, "hello world", endStream: true)
            let post = await client.waitForEnd(3)
            #expect(post.status == 200)
            #expect(backend.recorder.contains("body 11"), "\(backend.recorder.all)")
            #expect(await live.waitForAccessLog(containing: "\"POST /api/b HTTP/2.0\" 200"))
            await client.close()
        }
    }

    @Test("Uploads of 300 KB to 1 MiB (the default limit) through the proxy: the upstream gets every byte, the client its answer")
    func largeUploads() async throws {
        let backend = try await TestBackend(timing: .immediate)
        let live = try await Self.proxy(to: backend)
        try await whileRunning(live, backend) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            for (index, size) in [300_000, 700_000, 1 << 20].enumerated() {
                let stream = 1 + 2 * index
                try await client.request(stream, "/upload/\(size)", method: "POST", extra: [("content-length", String(size))],
                                         endStream: false)
                client.writeBody(stream, total: size, frameSize: 16_384)
                #expect(await client.waitForEnd(stream).status == 200, "\(size) bytes")
                #expect(backend.recorder.contains("body \(size)"), "\(backend.recorder.all)")
            }
            await client.close()
        }
    }

    @Test("RST_STREAM while the upstream works: its connection is closed at once, 499 client_rst_stream",
          arguments: [ClientFINPolicy.serve, .abort])
    func resetCancelsUpstream(_ policy: ClientFINPolicy) async throws {
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/api/slow")
            #expect(await eventually { backend.recorder.contains("body 0") })
            try await client.reset(1)
            #expect(await eventually { backend.recorder.contains("gone /api/slow") }, "\(backend.recorder.all)")
            #expect(!backend.recorder.contains("answered /api/slow"))
            #expect(await live.waitForAccessLog(containing: "\"GET /api/slow HTTP/2.0\" 499"))
            #expect(live.accessLogLines.last?.hasSuffix("client_rst_stream") == true, "\(live.accessLogLines)")
            backend.release()
            await client.close()
        }
    }
}
