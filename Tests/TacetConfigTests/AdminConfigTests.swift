import Testing
@testable import TacetConfig

/// `admin:`: the metrics and health listener.
@Suite struct AdminConfigTests {
    @Test func adminListen() throws {
        let config = try parse("admin: { listen: \"127.0.0.1:9901\" }\n")
        #expect(config.admin == AdminConfig(listen: ListenAddress(host: "127.0.0.1", port: 9901)))
        #expect(config.listen == TacetConfiguration.defaultListen)
        #expect(try parse("routes: []\n").admin == nil)
    }

    @Test func adminRefusals() {
        let cases: [(String, String)] = [
            ("admin: { listen: \"127.0.0.1:9901\", path: /stats }\n",
             "tacet.yaml:1:36: admin: unknown key 'path' (expected one of: listen)"),
            ("admin: {}\n",
             "tacet.yaml:1:8: admin: missing required key 'listen'"),
            ("admin: { listen: \"127.0.0.1\" }\n",
             "tacet.yaml:1:18: admin.listen: invalid listen address '127.0.0.1': missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)"),
            ("admin: \"127.0.0.1:9901\"\n",
             "tacet.yaml:1:8: admin: expected a mapping, got '127.0.0.1:9901'"),
            ("listen: \"127.0.0.1:9901\"\nadmin: { listen: \"127.0.0.1:9901\" }\n",
             "tacet.yaml:2:8: admin: address '127.0.0.1:9901' is already used by another listener"),
            ("streams:\n  - { listen: \"127.0.0.1:9901\", to: \"127.0.0.1:1\" }\nadmin: { listen: \"127.0.0.1:9901\" }\n",
             "tacet.yaml:3:8: admin: address '127.0.0.1:9901' is already used by another listener"),
        ]
        for (yaml, expected) in cases {
            #expect(configError(yaml)?.description == expected)
        }
    }
}
