import NIOCore
import NIOEmbedded
import NIOSSL
import TacetTestSupport
import TacetTLS
import Testing

/// The ClientHello reader that tls-alpn-01 needs (SNI and ALPN before TLS starts): on a real
/// hello from BoringSSL's client, fed whole and in pieces, and on mutated bytes.
@Suite("ClientHello: SNI and ALPN read before TLS, strictly")
struct ClientHelloTests {
    /// The first bytes a NIOSSL client sends: its ClientHello.
    static func hello(serverName: String?, alpn: [String]) throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = alpn
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        _ = try? channel.finish()
        return bytes
    }

    @Test("A real hello: the name and the protocols; incomplete until its record is whole")
    func real() throws {
        let bytes = try Self.hello(serverName: "Example.COM", alpn: ["acme-tls/1"])
        #expect(ClientHello.read(bytes) == .hello(ClientHello(serverName: "example.com", protocols: ["acme-tls/1"])))
        let plain = try Self.hello(serverName: nil, alpn: ["h2", "http/1.1"])
        #expect(ClientHello.read(plain) == .hello(ClientHello(serverName: nil, protocols: ["h2", "http/1.1"])))
        for cut in [0, 1, 4, 5, 40, bytes.count - 1] {
            #expect(ClientHello.read(bytes.prefix(cut)) == .incomplete, "cut at \(cut)")
        }
        #expect(ClientHello.read(Array("GET / HTTP/1.1\r\n".utf8)) == .other)
    }

    @Test("Mutated hellos (bytes replaced, lengths inflated, cut): never a crash, never past the record")
    func fuzz() throws {
        let bytes = try Self.hello(serverName: "a.example", alpn: ["acme-tls/1", "h2"])
        var generator = SeededGenerator(seed: 26)
        for _ in 0..<20_000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let i = Int.random(in: 0..<mutated.count, using: &generator)
                mutated[i] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { mutated = Array(mutated.prefix(Int.random(in: 0...mutated.count, using: &generator))) }
            _ = ClientHello.read(mutated)
        }
    }
}
