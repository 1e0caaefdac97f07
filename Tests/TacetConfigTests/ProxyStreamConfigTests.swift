import Testing
@testable import TacetConfig

/// `proxy:` routes and `streams:`: targets, policies, references to upstreams, the listen default.
@Suite struct ProxyStreamConfigTests {
    static let upstream = "upstreams:\n  app: { servers: [\"127.0.0.1:9000\"], connect_timeout: 2s }\n"

    @Test func proxyRoutes() throws {
        let yaml = Self.upstream + """
            routes:
              - match: { path: /api/ }
                proxy: { upstream: app, on_client_fin: probe, probe_status: 102, probe_max: 3 }
              - match: { path: /legacy/ }
                proxy: { to: "127.0.0.1:9100" }
            """
        let config = try parse(yaml)
        #expect(config.routes.map(\.action) == [
            .proxy(ProxyConfig(target: .upstream("app"), onClientFIN: .probe, probeStatus: 102, probeMax: 3)),
            .proxy(ProxyConfig(target: .address(ListenAddress(host: "127.0.0.1", port: 9100)))),
        ])
        let defaults = ProxyConfig(target: .upstream("x"))
        #expect(defaults.onClientFIN == .serve && defaults.probeStatus == 103 && defaults.probeMax == 1)
    }

    @Test func toTakesAnHTTPURLAsNginxProxyPassDoes() throws {
        let config = try parse("""
            routes:
              - match: { path: / }
                proxy: { to: "http://127.0.0.1:9100" }
            """)
        #expect(config.routes.map(\.action) == [.proxy(ProxyConfig(target: .address(ListenAddress(host: "127.0.0.1", port: 9100))))])
        let error = configError("""
            routes:
              - match: { path: / }
                proxy: { to: "http://127.0.0.1:9100/app" }
            """)
        #expect("\(error.map { "\($0)" } ?? "")".contains("a path after the address is not supported"))
    }

    @Test func upstreamsMayComeAfterTheirUsers() throws {
        let yaml = """
            routes:
              - match: { path: / }
                proxy: { upstream: app }
            streams:
              - { listen: "127.0.0.1:0", upstream: app }
            upstreams:
              app: { servers: ["127.0.0.1:9000"], connect_timeout: 2s }
            """
        let config = try parse(yaml)
        #expect(config.streams.first?.connectTimeout == .seconds(2))
    }

    @Test func proxyRefusals() {
        let route = "routes:\n  - match: { path: / }\n    proxy: "
        let cases: [(String, String)] = [
            (route + "{ upstream: nope }\n",
             "tacet.yaml:3:24: routes[0].proxy.upstream: unknown upstream 'nope' (no upstreams are configured)"),
            (Self.upstream + route + "{ upstream: nope }\n",
             "tacet.yaml:5:24: routes[0].proxy.upstream: unknown upstream 'nope' (known: app)"),
            (Self.upstream + route + "{ upstream: app, to: \"127.0.0.1:1\" }\n",
             "tacet.yaml:5:33: routes[0].proxy.to: give either 'upstream' or 'to', not both"),
            (route + "{ on_client_fin: probe }\n",
             "tacet.yaml:3:12: routes[0].proxy: missing a target: 'upstream: NAME' or 'to: HOST:PORT'"),
            (route + "{ to: \"127.0.0.1:1\", on_client_fin: ignore }\n",
             "tacet.yaml:3:48: routes[0].proxy.on_client_fin: unknown policy 'ignore' (expected one of: serve, abort, probe)"),
            (route + "{ to: \"127.0.0.1:1\", probe_status: 101 }\n",
             "tacet.yaml:3:47: routes[0].proxy.probe_status: 101 switches protocols; use another 1xx (e.g. 103)"),
            (route + "{ to: \"127.0.0.1:1\", probe_status: 200 }\n",
             "tacet.yaml:3:47: routes[0].proxy.probe_status: must be in 100...199, got 200"),
            (route + "{ to: \"127.0.0.1:1\", probe_max: 0 }\n",
             "tacet.yaml:3:44: routes[0].proxy.probe_max: must be in 1...100, got 0"),
            (route + "{ to: \"127.0.0.1:1\", timeout: 3s }\n",
             "tacet.yaml:3:33: routes[0].proxy: unknown key 'timeout' (expected one of: upstream, to, on_client_fin, probe_status, probe_max, strip_prefix, intercept)"),
        ]
        for (yaml, expected) in cases {
            #expect(configError(yaml)?.description == expected)
        }
    }

    @Test func streamsAlone() throws {
        let yaml = Self.upstream + """
            streams:
              - listen: "127.0.0.1:15432"
                to: "127.0.0.1:5432"
                half_close_timeout: 30s
              - listen: "127.0.0.1:15433"
                upstream: app
              - listen: "127.0.0.1:15434"
                upstream: app
                connect_timeout: 1s
            """
        let config = try parse(yaml)
        #expect(config.listen.isEmpty)
        #expect(config.routes.isEmpty)
        #expect(config.streams == [
            StreamConfig(listen: ListenAddress(host: "127.0.0.1", port: 15432),
                         target: .address(ListenAddress(host: "127.0.0.1", port: 5432)),
                         halfCloseTimeout: .seconds(30), connectTimeout: .seconds(5), line: 4),
            StreamConfig(listen: ListenAddress(host: "127.0.0.1", port: 15433), target: .upstream("app"),
                         connectTimeout: .seconds(2), line: 7),
            StreamConfig(listen: ListenAddress(host: "127.0.0.1", port: 15434), target: .upstream("app"),
                         connectTimeout: .seconds(1), line: 9),
        ])
    }

    @Test func streamsBesideHTTP() throws {
        let config = try parse("listen: \"127.0.0.1:8081\"\nstreams:\n  - { listen: \"127.0.0.1:9\", to: \"127.0.0.1:10\" }\n")
        #expect(config.listen == [ListenAddress(host: "127.0.0.1", port: 8081)])
        #expect(config.streams.count == 1)
        #expect(try parse("routes: []\n").listen == TacetConfiguration.defaultListen)
    }

    @Test func streamRefusals() {
        let cases: [(String, String)] = [
            ("streams:\n  - { listen: \"127.0.0.1:1\" }\n",
             "tacet.yaml:2:5: streams[0]: missing a target: 'upstream: NAME' or 'to: HOST:PORT'"),
            ("streams:\n  - { to: \"127.0.0.1:1\" }\n",
             "tacet.yaml:2:5: streams[0]: missing required key 'listen'"),
            ("streams:\n  - listen: \"127.0.0.1:1\"\n    upstream: db\n",
             "tacet.yaml:3:15: streams[0].upstream: unknown upstream 'db' (no upstreams are configured)"),
            ("streams:\n  - { listen: \"127.0.0.1:1\", to: \"127.0.0.1:2\", proxy_timeout: 1s }\n",
             "tacet.yaml:2:49: streams[0]: unknown key 'proxy_timeout' (expected one of: listen, to, upstream, half_close_timeout, connect_timeout, tls, proxy_protocol, send_proxy_protocol)"),
            ("streams:\n  - { listen: \"127.0.0.1:1\", to: \"127.0.0.1:2\" }\n  - { listen: \"127.0.0.1:1\", to: \"127.0.0.1:3\" }\n",
             "tacet.yaml:3:5: streams[1]: address '127.0.0.1:1' is already used by another listener"),
            ("listen: \"127.0.0.1:1\"\nstreams:\n  - { listen: \"127.0.0.1:1\", to: \"127.0.0.1:3\" }\n",
             "tacet.yaml:3:5: streams[0]: address '127.0.0.1:1' is already used by another listener"),
            ("streams:\n  - { listen: \"127.0.0.1\", to: \"127.0.0.1:3\" }\n",
             "tacet.yaml:2:15: streams[0].listen: invalid listen address '127.0.0.1': missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
            ("streams:\n  - { listen: \"127.0.0.1:1\", to: \"127.0.0.1:3\", half_close_timeout: 0s }\n",
             "tacet.yaml:2:69: streams[0].half_close_timeout: must be greater than zero, got '0s'"),
        ]
        for (yaml, expected) in cases {
            #expect(configError(yaml)?.description == expected)
        }
    }
}

@Suite struct SendProxyProtocolConfigTests {
    @Test func parsesV1V2AndRefusesOthers() throws {
        let config = try parse("""
            streams:
              - { listen: "127.0.0.1:6000", to: "127.0.0.1:6001", send_proxy_protocol: v2 }
              - { listen: "127.0.0.1:6002", to: "127.0.0.1:6003" }
            """)
        #expect(config.streams.map(\.sendProxyProtocol) == ["v2", nil])
        let error = configError("""
            streams:
              - { listen: "127.0.0.1:6000", to: "127.0.0.1:6001", send_proxy_protocol: v3 }
            """).map { "\($0)" } ?? ""
        #expect(error.contains("send_proxy_protocol is v1 or v2, not 'v3'"), "\(error)")
    }
}

@Suite struct StreamProxyProtocolConfigTests {
    @Test func readsTheFlagAndNeedsTrustedProxies() throws {
        let config = try parse("""
            trusted_proxies: ["10.0.0.0/8"]
            streams:
              - { listen: "127.0.0.1:6000", to: "127.0.0.1:6001", proxy_protocol: true, send_proxy_protocol: v2 }
              - { listen: "127.0.0.1:6002", to: "127.0.0.1:6003" }
            """)
        #expect(config.streams.map(\.proxyProtocol) == [true, false])
        let untrusted = configError("""
            streams:
              - { listen: "127.0.0.1:6000", to: "127.0.0.1:6001", proxy_protocol: true }
            """)?.description
        #expect(untrusted == "tacet.yaml:2:5: streams[0]: proxy_protocol needs trusted_proxies: the peers whose headers are believed")
        let bad = configError("""
            trusted_proxies: ["10.0.0.0/8"]
            streams:
              - { listen: "127.0.0.1:6000", to: "127.0.0.1:6001", proxy_protocol: maybe }
            """)?.description ?? ""
        #expect(bad.contains("proxy_protocol must be true or false, not 'maybe'"), "\(bad)")
    }
}
