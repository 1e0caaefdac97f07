import Testing
@testable import TacetConfig

@Suite("Config: acme, and tls.acme on a listener")
struct ACMEConfigTests {
    static func yaml(acme: String? = "acme: { email: ops@example.com, storage: acme }", names: String = "[example.com, www.example.com]",
                     tlsExtra: String = "") -> String {
        """
        listen:
          - "0.0.0.0:80"
          - address: "0.0.0.0:443"
            tls: { acme: \(names)\(tlsExtra) }
        \(acme ?? "")
        """
    }

    @Test("The block's defaults and values; a listener with only acme names needs no certificate files")
    func parses() throws {
        let config = try parse(Self.yaml(), base: "/srv")
        let acme = try #require(config.acme)
        #expect(acme.email == "ops@example.com" && acme.storage == "/srv/acme" && acme.directory == ACMEConfig.letsEncrypt)
        #expect(acme.challenges == [.tlsALPN01, .http01] && acme.externalAccount == nil && acme.line == 5)
        let tls = try #require(config.listeners.last?.tls)
        #expect(tls.acmeNames == ["example.com", "www.example.com"] && tls.certificates.isEmpty && tls.acmeLine == 4)
        let full = try parse(Self.yaml(acme: """
            acme:
              directory: https://ca.internal/acme/directory
              ca: ca.pem
              challenges: [http-01]
              external_account: { key_id: kid-1, hmac: "aGVsbG8td29ybGQ_" }
            """), base: "/srv")
        #expect(full.acme?.directory == "https://ca.internal/acme/directory" && full.acme?.ca == "/srv/ca.pem")
        #expect(full.acme?.challenges == [.http01] && full.acme?.externalAccount == .init(keyID: "kid-1", hmac: "aGVsbG8td29ybGQ_"))
    }

    @Test("Mistakes are errors at their line: acme names without the block, wildcards, addresses, a bad email or directory, an unknown challenge")
    func errors() {
        #expect(configError(Self.yaml(acme: nil))?.description.contains("tls.acme needs a top-level acme: block") == true)
        #expect(configError(Self.yaml(names: "[\"*.example.com\"]"))?.description.contains("needs the dns-01 challenge") == true)
        #expect(configError(Self.yaml(names: "[192.0.2.1]"))?.description.contains("DNS names, not addresses") == true)
        #expect(configError(Self.yaml(names: "[a.example, a.example]"))?.description.contains("listed twice") == true)
        #expect(configError(Self.yaml(names: "[]"))?.description.contains("at least one name") == true)
        #expect(configError(Self.yaml(acme: "acme: { email: \"not an email\" }"))?.description.contains("is not an email address") == true)
        #expect(configError(Self.yaml(acme: "acme: { directory: \"http://ca/dir\" }"))?.description.contains("must be an https:// URL") == true)
        #expect(configError(Self.yaml(acme: "acme: { challenges: [dns-01] }"))?.description.contains("unknown challenge 'dns-01'") == true)
        #expect(configError(Self.yaml(acme: "acme: { external_account: { key_id: k, hmac: \"a b\" } }"))?.description.contains("base64url") == true)
        #expect(configError(Self.yaml(acme: "acme: { emial: x }"))?.line == 5, "unknown keys at their line")
        let stream = """
            acme: { email: ops@example.com }
            streams:
              - { listen: "127.0.0.1:5432", to: "127.0.0.1:5433", tls: { acme: [db.example.com] } }
            """
        #expect(configError(stream)?.description.contains("acme certificates are for HTTP listeners") == true)
    }
}
