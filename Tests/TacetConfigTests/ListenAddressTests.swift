import Testing
import TacetConfig

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080, "127.0.0.1:8080"),
        ("0.0.0.0:80", "0.0.0.0", 80, "0.0.0.0:80"),
        ("[::1]:8080", "::1", 8080, "[::1]:8080"),
        ("[::]:8080", "::", 8080, "[::]:8080"),
        ("[FE80::1]:443", "fe80::1", 443, "[fe80::1]:443"),
        ("localhost:8080", "localhost", 8080, "localhost:8080"),
        ("Example.COM:1", "example.com", 1, "example.com:1"),
        (":8080", "0.0.0.0", 8080, "0.0.0.0:8080"),
        ("127.0.0.1:0", "127.0.0.1", 0, "127.0.0.1:0"),
        ("[::1]:65535", "::1", 65535, "[::1]:65535"),
    ])
    func valid(text: String, host: String, port: Int, description: String) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == description)
    }

    @Test(arguments: [
        ("127.0.0.1", "missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
        ("127.0.0.1:", "missing port"),
        ("127.0.0.1:65536", "port must be a number in 0...65535"),
        ("127.0.0.1:-1", "port must be a number in 0...65535"),
        ("127.0.0.1:http", "port must be a number in 0...65535"),
        ("256.0.0.1:80", "'256.0.0.1' is not an IPv4 address"),
        ("::1:8080", "IPv6 addresses need brackets, e.g. [::1]:8080"),
        ("[::1]8080", "expected ':PORT' after ']'"),
        ("[::1:8080", "missing ']' after the IPv6 address"),
        ("[1.2.3.4]:80", "'1.2.3.4' is not an IPv6 address"),
        ("bad_host:80", "'bad_host' is not a valid host name"),
        ("", "missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
    ])
    func invalid(text: String, reason: String) {
        #expect(throws: ListenAddressError(input: text, reason: reason)) {
            try ListenAddress(parsing: text)
        }
    }

    @Test func errorDescription() {
        #expect(ListenAddressError(input: "x", reason: "missing port").description
            == "invalid listen address 'x': missing port")
    }
}

/// `http2:` on a listen entry: on by default with TLS (ALPN), off by default on plain listeners.
@Suite struct ListenHTTP2ConfigTests {
    @Test func defaultsAndExplicitValues() throws {
        let plain = try parse("""
            listen:
              - "127.0.0.1:8080"
              - { address: "127.0.0.1:8081", http2: true }
              - { address: "127.0.0.1:8082", http2: off }
            """)
        #expect(plain.listeners.map(\.http2) == [false, true, false])
    }

    @Test func aValueThatIsNotABooleanIsRefusedWithItsLine() throws {
        let error = try #require(configError("""
            listen:
              - { address: "127.0.0.1:8080", http2: maybe }
            """))
        #expect("\(error)".contains("http2 must be true or false, not 'maybe'"), "\(error)")
        #expect("\(error)".contains("tacet.yaml:2:"), "\(error)")
    }
}

/// `limits:` per client.
@Suite struct ClientLimitsConfigTests {
    @Test func parsesAndRefuses() throws {
        let config = try parse("""
            limits: { connections_per_client: 100, requests_per_second_per_client: 50, burst: 100 }
            """)
        #expect(config.clientLimits.connectionsPerClient == 100)
        #expect(config.clientLimits.requestsPerSecondPerClient == 50)
        #expect(config.clientLimits.burst == 100)
        #expect(try parse("listen: [\"127.0.0.1:8080\"]").clientLimits.isEmpty)
        let burstAlone = configError("limits: { burst: 5 }").map { "\($0)" } ?? ""
        #expect(burstAlone.contains("burst goes with requests_per_second_per_client"), "\(burstAlone)")
        let unknown = configError("limits: { per_client: 5 }").map { "\($0)" } ?? ""
        #expect(unknown.contains("unknown key 'per_client'"), "\(unknown)")
    }
}
