import NIOCore
import TacetHTTP
import TacetProbe
import TacetProxy
import TacetTestSupport
import Testing

/// Response queue poisoning: an upstream that sends more than its response must never have the
/// extra bytes served as another request's answer. Clients pipeline, so a second request is
/// waiting the moment the first response ends.
@Suite("Proxy: no upstream byte reaches the wrong request")
struct ProxyResponseIntegrityTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
    static let evil = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL\n"

    /// `count` pipelined GETs (then FIN): every answer is the backend's real one, none is EVIL.
    func pipelined(_ count: Int, backend: ScriptedBackend, method: String = "GET") async throws {
        let (live, _) = try await ProxyBehaviourTests.proxy(port: backend.port)
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.write((1...count).map { "\(method) /\($0) HTTP/1.1\r\nHost: t\r\n\r\n" }.joined())
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            let responses = result.responses(requestMethods: Array(repeating: method, count: count)).finalResponses
            #expect(responses.count == count, "\(result.string.debugDescription)")
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(!result.string.contains("EVIL"), "another request's answer was served: \(result.string)")
            #expect(result.end == .fin)
        }
    }

    @Test("Extra bytes in the same write as the response, 2 and 3 pipelined requests: each gets its own answer",
          arguments: [2, 3])
    func sameWrite(count: Int) async throws {
        let backend = try await ScriptedBackend(Self.ok + Self.evil, Self.ok + Self.evil, Self.ok + Self.evil)
        try await whileRunning(backend) {
            try await pipelined(count, backend: backend)
            #expect(backend.connections == count, "a connection that sent extra bytes was reused")
        }
    }

    @Test("Extra bytes after a chunked response's last chunk")
    func afterChunked() async throws {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok\n\r\n0\r\n\r\n"
        let backend = try await ScriptedBackend(chunked + Self.evil)
        try await whileRunning(backend) {
            try await pipelined(3, backend: backend)
            #expect(backend.connections == 3)
        }
    }

    @Test("A body after a response to HEAD, a body after a 204: never the next request's answer")
    func bodylessWithBody() async throws {
        let head = try await ScriptedBackend("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL\n")
        try await whileRunning(head) {
            try await pipelined(2, backend: head, method: "HEAD")
            #expect(head.connections == 2)
        }

        let noContent = try await ScriptedBackend("HTTP/1.1 204 No Content\r\n\r\n" + Self.evil)
        let (live, _) = try await ProxyBehaviourTests.proxy(port: noContent.port)
        try await whileRunning(live, noContent) {
            let client = try await live.connect()
            try await client.send(get("/1") + get("/2"))
            try client.shutdownWrite()
            let result = await client.readToEnd(timeout: 10)
            #expect(result.responses().finalResponses.map(\.status) == [204, 204])
            #expect(!result.string.contains("EVIL"))
            #expect(noContent.connections == 2)
        }
    }

    @Test("Extra bytes in a later segment, while the connection idles in the pool: closed; the next request gets a fresh one")
    func laterSegmentWhileIdle() async throws {
        let backend = try await ScriptedBackend([.init(bytes: Self.ok, then: Self.evil)])
        let (live, upstream) = try await ProxyBehaviourTests.proxy(port: backend.port)
        try await whileRunning(live, backend) {
            let client = try await live.connect()
            try await client.send(get("/1"))
            #expect(await client.readResponses(count: 1, timeout: 10).responses().finalResponses.first?.bodyString == "ok\n")
            try await backend.closed(count: 1)  // Tacet saw the extra bytes and closed that connection
            #expect(upstream.idleConnectionCount == 0)
            try await client.send(get("/2"))
            let second = await client.readResponses(count: 1, timeout: 10).responses().finalResponses
            #expect(second.map(\.bodyString) == ["ok\n"])
            #expect(backend.connections == 2)
            client.close()
        }
    }
}
