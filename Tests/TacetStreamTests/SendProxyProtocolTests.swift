import TacetProbe
import TacetProxyProtocol
import TacetTestSupport
import Testing

/// `send_proxy_protocol`: the upstream reads a PROXY header with the client's address first,
/// then the client's bytes, unchanged.
@Suite("Streams: send_proxy_protocol")
struct SendProxyProtocolTests {
    @Test("v1 and v2: the header names the client and the listener, then the client's bytes follow",
          arguments: [ProxyHeaderEncoder.Version.v1, .v2])
    func headerFirst(_ version: ProxyHeaderEncoder.Version) async throws {
        let backend = try TestServer { socket -> [UInt8] in socket.read(until: "hello upstream") }
        let proxy = try await StreamFixture(servers: [backend.port], sendProxyProtocol: version)
        try await whileRunning(proxy) {
            let client = try RawClient.connect(host: "127.0.0.1", port: proxy.port)
            try client.write("hello upstream")
            let seen = try await backend.result()
            guard case .header(.proxied(let source, let destination), let length) = ProxyHeaderParser.parse(seen) else {
                Issue.record("no PROXY header first: \(seen.prefix(40))")
                return
            }
            #expect(source.ip == "127.0.0.1" && source.port == client.localPort)
            #expect(destination.ip == "127.0.0.1" && destination.port == proxy.port)
            #expect(String(decoding: seen.dropFirst(length), as: UTF8.self) == "hello upstream")
            client.close()
        }
    }

    @Test func encoderRoundTripsThroughTheParser() {
        for version in ProxyHeaderEncoder.Version.allCases {
            for (src, dst) in [(ProxiedAddress(ip: "192.0.2.1", port: 5000), ProxiedAddress(ip: "198.51.100.2", port: 443)),
                               (ProxiedAddress(ip: "2001:db8::1", port: 65535), ProxiedAddress(ip: "::1", port: 1))] {
                let bytes = ProxyHeaderEncoder.encode(version, source: src, destination: dst)
                #expect(ProxyHeaderParser.parse(bytes) == .header(.proxied(source: src, destination: dst), length: bytes.count),
                        "\(version) \(src)")
            }
            let unknown = ProxyHeaderEncoder.encode(version, source: nil, destination: nil)
            #expect(ProxyHeaderParser.parse(unknown) == .header(.local, length: unknown.count))
        }
    }
}
