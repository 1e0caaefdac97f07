import Logging
import NIOCore
import TacetConfig
import TacetHTTP
import TacetProxyProtocol
import TacetTestSupport
import Testing

/// A listener behind a load balancer that speaks the PROXY protocol: the header is required,
/// believed only from trusted peers, and the client address it carries is the one in the
/// access log and X-Forwarded-For.
@Suite("PROXY protocol on an HTTP listener")
struct ProxyProtocolTests {
    static func server(trusted: [String], timeout: TimeAmount = .seconds(60)) async throws -> LiveServer {
        let prelude = ProxyProtocolPrelude(trusted: try CIDRList(parsing: trusted), timeout: timeout,
                                           logger: TLSTests.logger)
        return try await LiveServer.start(prelude: prelude) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: FixedResponder(status: .ok, body: "behind a balancer\n"))]
        }
    }

    static let v2Header: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                                    198, 51, 100, 9, 127, 0, 0, 1, 0xD4, 0x31, 0x1F, 0x90]

    @Test("v1 and v2 from a trusted peer: answered, and the access log names the client the header names")
    func trusted() async throws {
        let live = try await Self.server(trusted: ["127.0.0.1/32"])
        try await whileRunning(live) {
            let one = try await live.connect()
            try await one.write("PROXY TCP4 203.0.113.7 127.0.0.1 54321 8080\r\n" + get("/", "Connection: close\r\n"))
            #expect(await one.readToEnd(timeout: 10).responses().finalResponses.first?.status == 200)
            let two = try await live.connect()
            try await two.write(Self.v2Header + Array(get("/", "Connection: close\r\n").utf8))
            #expect(await two.readToEnd(timeout: 10).responses().finalResponses.first?.status == 200)
            #expect(await live.waitForAccessLog(containing: "198.51.100.9"))
            let lines = live.accessLogLines
            #expect(lines.contains { $0.hasPrefix("203.0.113.7 ") }, "\(lines)")
            #expect(lines.contains { $0.hasPrefix("198.51.100.9 ") }, "\(lines)")
        }
    }

    @Test("Refused: a peer not trusted, a request without the header, a malformed header: closed, nothing answered")
    func refused() async throws {
        let untrusted = try await Self.server(trusted: ["10.0.0.0/8"])
        try await whileRunning(untrusted) {
            let client = try await untrusted.connect()
            try? await client.write("PROXY TCP4 203.0.113.7 127.0.0.1 54321 8080\r\n" + get("/"))
            #expect(await client.readToEnd(timeout: 10).bytes.isEmpty)
        }
        let live = try await Self.server(trusted: ["127.0.0.1"])
        try await whileRunning(live) {
            for bad in [get("/"), "PROXY TCP4 203.0.113.700 127.0.0.1 1 2\r\n" + get("/")] {
                let client = try await live.connect()
                try? await client.write(bad)
                #expect(await client.readToEnd(timeout: 10).bytes.isEmpty, "\(bad)")
            }
        }
    }

    @Test("No header within the header timeout: closed")
    func timeout() async throws {
        let live = try await Self.server(trusted: ["127.0.0.1"], timeout: .milliseconds(200))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.write("PROXY TCP4 ")
            let result = await client.readToEnd(timeout: 10)
            #expect(result.bytes.isEmpty)
            #expect(result.end != .timeout)
        }
    }

    @Test("Configuration: proxy_protocol on a listen entry needs trusted_proxies")
    func configuration() throws {
        let config = try ConfigLoader.parse(yaml: """
            trusted_proxies: ["10.0.0.0/8", "127.0.0.1"]
            listen:
              - { address: "127.0.0.1:8080", proxy_protocol: true }
            """, file: "tacet.yaml", baseDirectory: "/")
        #expect(config.listeners.first?.proxyProtocol == true)
        #expect(config.trustedProxies == ["10.0.0.0/8", "127.0.0.1"])
        #expect(throws: ConfigError.self) {
            _ = try ConfigLoader.parse(yaml: "listen:\n  - { address: \"127.0.0.1:8080\", proxy_protocol: true }\n",
                                       file: "tacet.yaml", baseDirectory: "/")
        }
    }
}
