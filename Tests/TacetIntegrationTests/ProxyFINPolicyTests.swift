import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetProbe
import TacetProxy
import TacetTestSupport
import Testing

/// The reverse proxy's acceptance cases: a client that half-closes, closes or resets while the
/// upstream works, under each `on_client_fin` policy. The backend records whether its client
/// went away before it answered.
@Suite("Proxy: client FIN policies on real sockets")
struct ProxyFINPolicyTests {
    static let probe = ClientFINPolicy.probe(status: .earlyHints, max: 1)

    static func proxy(to backend: TestBackend, policy: ClientFINPolicy,
                      settings: Upstream.Settings = Upstream.Settings()) async throws -> LiveServer {
        try await LiveServer.start { group in
            let upstream = Upstream(name: "app", selector: SingleServer(host: "127.0.0.1", port: backend.port),
                                    settings: settings, group: group)
            return [Router.Route(host: nil, pathPrefix: "/", responder: ProxyResponder(upstream: upstream, policy: policy))]
        }
    }

    @Test("(B) GET + SHUT_WR: the full 200, then FIN", arguments: [ClientFINPolicy.serve, probe])
    func getThenShutdown(_ policy: ClientFINPolicy) async throws {
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/x"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            try client.shutdownWrite()
            if case .probe = policy {
                // The FIN has been seen when the probe arrives; only then may the backend answer.
                let interim = await client.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }, timeout: 10)
                #expect(interim.string.hasPrefix("HTTP/1.1 103 Early Hints\r\n"))
            }
            backend.release()
            let rest = await client.readToEnd(timeout: 10)
            let result = ReadResult(bytes: client.received, end: rest.end, elapsedMs: rest.elapsedMs)
            let responses = result.responses()
            #expect(result.end == .fin)
            #expect(responses.finalResponses.map(\.status) == [200])
            #expect(responses.finalResponses.first?.bodyString == "backend says hi\n")
            #expect(responses.completeFinalCount == 1)
            if case .probe = policy {
                #expect(responses.interimResponses.map(\.status) == [103])
            } else {
                #expect(responses.interimResponses.isEmpty)
            }
            #expect(backend.recorder.contains("answered /api/x"))
        }
    }

    @Test("(C) GET + close(): the backend's connection is closed before it answers; 499 logged with why",
          arguments: [(ClientFINPolicy.abort, "client_fin"), (probe, "client_rst")])
    func getThenClose(_ policy: ClientFINPolicy, _ why: String) async throws {
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/slow"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            client.close()
            #expect(await eventually { backend.recorder.contains("gone /api/slow") })
            #expect(!backend.recorder.contains("answered /api/slow"))
            #expect(await live.waitForAccessLog(containing: "\"GET /api/slow HTTP/1.1\" 499"))
            #expect(live.accessLogLines.last?.hasSuffix(why) == true, "\(live.accessLogLines)")
        }
    }

    @Test("(C) with a slow backend (30 s): GET + close() under probe spares the backend")
    func getThenCloseSlowBackend() async throws {
        // A real delay, long enough that a loaded test machine cannot let it run out first
        // (the gated test above shows the same without any clock).
        let backend = try await TestBackend(timing: .delay(.seconds(30)))
        let live = try await Self.proxy(to: backend, policy: Self.probe)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/slow"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            client.close()
            #expect(await eventually { backend.recorder.contains("gone /api/slow") })
            #expect(!backend.recorder.contains("answered /api/slow"))
        }
    }

    @Test("(D) 3 pipelined GETs + SHUT_WR: 3 complete responses in order, then FIN",
          arguments: [ClientFINPolicy.serve, probe])
    func pipelined(_ policy: ClientFINPolicy) async throws {
        let backend = try await TestBackend(timing: .delay(.milliseconds(100)))
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/1") + get("/2") + get("/3"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            #expect(result.responses().completeFinalCount == 3)
            let order = backend.recorder.all.filter { $0.hasPrefix("answered") }
            #expect(order == ["answered /1", "answered /2", "answered /3"])
        }
    }

    @Test("(E) POST with a 10 KiB body + SHUT_WR: the full response", arguments: [ClientFINPolicy.serve, probe])
    func postThenShutdown(_ policy: ClientFINPolicy) async throws {
        let backend = try await TestBackend(timing: .delay(.milliseconds(200)))
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send("POST /u HTTP/1.1\r\nHost: t\r\nContent-Length: 10240\r\n\r\n" + String(repeating: "p", count: 10240))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            #expect(result.responses().completeFinalCount == 1)
            #expect(backend.recorder.contains("body 10240"))
        }
    }

    @Test("A client RST while the upstream works spares the backend, whatever the policy",
          arguments: [ClientFINPolicy.serve, .abort, probe])
    func resetSparesBackend(_ policy: ClientFINPolicy) async throws {
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: policy)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/slow"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            client.reset()
            #expect(await eventually { backend.recorder.contains("gone /api/slow") })
            #expect(await live.waitForAccessLog(containing: "499"))
            #expect(live.accessLogLines.last?.hasSuffix("client_rst") == true)
        }
    }

    @Test("HTTP/1.0 + SHUT_WR under probe: served, and no 1xx sent")
    func http10UnderProbe() async throws {
        let backend = try await TestBackend(timing: .delay(.milliseconds(200)))
        let live = try await Self.proxy(to: backend, policy: Self.probe)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send("GET /old HTTP/1.0\r\n\r\n")
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            #expect(result.responses().interimResponses.isEmpty)
            #expect(result.responses().finalResponses.map(\.status) == [200])
            #expect(!result.string.contains("103"))
        }
    }

    @Test("abort: GET + SHUT_WR is dropped like nginx does: FIN, no response, 499 client_fin")
    func abortDropsHalfClosed() async throws {
        let backend = try await TestBackend(timing: .gated)
        let live = try await Self.proxy(to: backend, policy: .abort)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/api/x"))
            #expect(await eventually { backend.recorder.contains("body 0") })
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end == .fin)
            #expect(result.bytes.isEmpty)
            #expect(await eventually { backend.recorder.contains("gone /api/x") })
            #expect(await live.waitForAccessLog(containing: "499"))
            #expect(live.accessLogLines.last?.hasSuffix("client_fin") == true)
        }
    }
}

extension ClientFINPolicy: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .serve: return "serve"
        case .abort: return "abort"
        case .probe: return "probe"
        }
    }
}
