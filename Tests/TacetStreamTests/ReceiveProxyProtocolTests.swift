import NIOCore
import TacetProbe
import TacetProxyProtocol
import TacetTestSupport
import Testing

/// `proxy_protocol: true` on a stream listener: the balancer's header is read before the
/// upstream is connected; the client it names is the one logged and the one a PROXY header sent
/// on names; without a good header from a trusted peer nothing is connected upstream.
@Suite("Streams: proxy_protocol")
struct ReceiveProxyProtocolTests {
    static let v1 = "PROXY TCP4 198.51.100.9 192.0.2.1 54321 5432\r\n"

    /// A backend that reads to EOF, answers after it, and FINs: the half-close answered.
    static func echoAfterEOF() throws -> TestServer<[UInt8]> {
        try TestServer { socket -> [UInt8] in
            let (bytes, _) = socket.readToEnd()
            socket.write("reply after EOF")
            socket.shutdownWrite()
            return bytes
        }
    }

    @Test("A v1 header, then a half-close: the backend gets the header from us naming the balancer's client, the client's bytes, the FIN; the reply comes back")
    func headerThenHalfClose() async throws {
        let backend = try Self.echoAfterEOF()
        let proxy = try await StreamFixture(servers: [backend.port], sendProxyProtocol: .v2, readProxyProtocol: ["127.0.0.1"])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write(Self.v1 + "hello upstream")
            try client.shutdownWrite()
            let reply = await client.readToEnd(timeout: 30)
            #expect(String(decoding: reply.bytes, as: UTF8.self) == "reply after EOF")
            #expect(reply.end == .fin)
            let seen = try await backend.result()
            guard case .header(.proxied(let source, let destination), let length) = ProxyHeaderParser.parse(seen) else {
                Issue.record("no PROXY header first: \(seen.prefix(40))")
                return
            }
            #expect(source == ProxiedAddress(ip: "198.51.100.9", port: 54321))
            #expect(destination == ProxiedAddress(ip: "192.0.2.1", port: 5432))
            #expect(String(decoding: seen.dropFirst(length), as: UTF8.self) == "hello upstream")
            let log = try await proxy.logs.streamClosed()
            #expect(log["client"] == "198.51.100.9:54321")
            #expect(log["end"] == "clean")
            #expect(log["bytes_up"] == "14")
        }
    }

    @Test("A v2 header one byte per write (the reader asks for each read itself): connected, bytes after it passed on unchanged")
    func splitHeader() async throws {
        let backend = try TestServer { socket -> [UInt8] in socket.read(until: "after") }
        let proxy = try await StreamFixture(servers: [backend.port], readProxyProtocol: ["127.0.0.1/32"])
        try await whileRunning(proxy) {
            let client = try RawClient.connect(host: "127.0.0.1", port: proxy.port)
            let header = ProxyHeaderEncoder.encode(.v2, source: ProxiedAddress(ip: "2001:db8::7", port: 443),
                                                   destination: ProxiedAddress(ip: "2001:db8::1", port: 5432))
            for byte in header { try client.write([byte]) }
            try client.write("after")
            #expect(String(decoding: try await backend.result(), as: UTF8.self) == "after")
            client.close()
            let log = try await proxy.logs.streamClosed()
            #expect(log["client"] == "[2001:db8::7]:443")
        }
    }

    @Test("A LOCAL header (the balancer's own health check): connected, the socket's address logged")
    func local() async throws {
        let backend = try TestServer { socket -> [UInt8] in socket.read(until: "ping") }
        let proxy = try await StreamFixture(servers: [backend.port], readProxyProtocol: ["127.0.0.1"])
        try await whileRunning(proxy) {
            let client = try RawClient.connect(host: "127.0.0.1", port: proxy.port)
            try client.write(ProxyHeaderEncoder.encode(.v2, source: nil, destination: nil) + Array("ping".utf8))
            #expect(String(decoding: try await backend.result(), as: UTF8.self) == "ping")
            client.close()
            let log = try await proxy.logs.streamClosed()
            #expect(log["client"] == "127.0.0.1:\(client.localPort)")
        }
    }

    @Test("Refused, never connected upstream, logged as refused with the reason",
          arguments: [("untrusted", ["10.0.0.0/8"], Self.v1 + "x"),
                      ("invalid", ["127.0.0.1"], "GET / HTTP/1.1\r\n\r\n"),
                      ("incomplete", ["127.0.0.1"], "PROXY TCP4 198.51.100.9")])
    func refused(_ reason: String, _ trusted: [String], _ sent: String) async throws {
        let proxy = try await StreamFixture(servers: [refusingPort()], readProxyProtocol: trusted)
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try? await client.write(sent)
            try? client.shutdownWrite()
            let reply = await client.readToEnd(timeout: 30)
            #expect(reply.bytes.isEmpty)
            #expect(reply.end != .timeout)
            let log = try await proxy.logs.streamClosed()
            #expect(log["end"] == "refused")
            #expect(log["first_close"] == "proxy_header_\(reason)")
            #expect(log["upstream"] == "-")
        }
    }

    @Test("No whole header within the header timeout: closed, logged as refused")
    func timeout() async throws {
        let proxy = try await StreamFixture(servers: [refusingPort()], readProxyProtocol: ["127.0.0.1"],
                                            headerTimeout: .milliseconds(100))
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("PROXY ")
            let reply = await client.readToEnd(timeout: 30)
            #expect(reply.bytes.isEmpty && reply.end != .timeout)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "proxy_header_timeout")
        }
    }

    @Test("The client resets before its header is whole: logged as a reset, never connected")
    func resetBeforeHeader() async throws {
        let proxy = try await StreamFixture(servers: [refusingPort()], readProxyProtocol: ["127.0.0.1"])
        try await whileRunning(proxy) {
            let client = try RawClient.connect(host: "127.0.0.1", port: proxy.port)
            try client.write("PROXY TCP4 ")
            client.reset()
            let log = try await proxy.logs.streamClosed()
            #expect(log["end"] == "reset", "\(log)")
            #expect(log["upstream"] == "-")
        }
    }
}
