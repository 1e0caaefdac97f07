import Foundation
import TacetConfig
import TacetServer
import TacetTestSupport
import Testing

/// A TCP stream proxy that terminates TLS: each direction's end passes on as what it means on
/// the other side. The client's `close_notify` becomes a FIN to the upstream; the upstream's FIN
/// becomes `close_notify` (and a FIN) to the client; the other direction stays open meanwhile;
/// an RST becomes an RST.
@Suite("TLS: streams")
struct TLSStreamTests {
    static func server(certificate: TestCertificate, backendPort: Int) throws -> TacetServer {
        let config = try ConfigLoader.parse(yaml: """
            streams:
              - listen: "127.0.0.1:0"
                to: "127.0.0.1:\(backendPort)"
                tls: { certificates: [{ cert: \(certificate.certPath), key: \(certificate.keyPath) }] }
            """, file: "tacet.yaml", baseDirectory: "/")
        return try TacetServer(configuration: config, threads: 1, logger: ReloadTests.quiet)
    }

    @Test("close_notify from the client: a FIN to the upstream, whose late reply still reaches the client, then close_notify")
    func closeNotifyBecomesFIN() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        // The upstream reads to its EOF (our FIN), then replies on the direction still open.
        let backend = try TestServer { socket -> (String, PeerEnd) in
            let (bytes, end) = socket.readToEnd()
            _ = socket.write("pong after your FIN")
            socket.shutdownWrite()
            return (String(decoding: bytes, as: UTF8.self), end)
        }
        let server = try Self.server(certificate: certificate, backendPort: backend.port)
        try await whileRunning(server) {
            try await server.start()
            let port = try #require(server.streamAddresses.first?.port)
            let client = try await TLSTestClient.connect(port: port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send("ping")
            try await client.closeNotify(fin: false)
            let (text, end) = await client.readToEnd()
            #expect(text == "pong after your FIN")
            #expect(end == .closeNotify)
            let seen = try await backend.result()
            #expect(seen.0 == "ping")
            #expect(seen.1 == .fin)
            await client.close()
        }
    }

    @Test("An RST from the upstream: an RST to the TLS client, never close_notify")
    func resetBecomesReset() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let backend = try TestServer { socket -> Bool in
            _ = socket.read(count: 4)
            socket.reset()
            return true
        }
        let server = try Self.server(certificate: certificate, backendPort: backend.port)
        try await whileRunning(server) {
            try await server.start()
            let port = try #require(server.streamAddresses.first?.port)
            let client = try await TLSTestClient.connect(port: port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send("ping")
            let (_, end) = await client.readToEnd()
            #expect(end == .reset)
            _ = try await backend.result()
            await client.close()
        }
    }
}
