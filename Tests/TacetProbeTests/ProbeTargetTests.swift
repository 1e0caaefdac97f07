import Testing
@testable import TacetProbe

@Suite struct ProbeTargetTests {
    @Test func parsesHostPortPathAndQuery() throws {
        let target = try HTTPTarget.parse("http://example.test:8080/a/b?c=d#frag")
        #expect(target == HTTPTarget(host: "example.test", port: 8080, path: "/a/b?c=d"))
        #expect(target.hostHeader == "example.test:8080")
    }

    @Test func defaultsToPort80AndSlash() throws {
        let target = try HTTPTarget.parse("HTTP://example.test")
        #expect(target == HTTPTarget(host: "example.test", port: 80, path: "/"))
        #expect(target.hostHeader == "example.test")
        #expect(try HTTPTarget.parse("http://h?x=1").path == "/?x=1")
    }

    @Test func parsesIPv6Literals() throws {
        let target = try HTTPTarget.parse("http://[::1]:9000/")
        #expect(target.host == "::1" && target.port == 9000)
        #expect(target.hostHeader == "[::1]:9000")
    }

    @Test func httpsDefaultsToPort443() throws {
        let target = try HTTPTarget.parse("https://example.test/x")
        #expect(target == HTTPTarget(host: "example.test", port: 443, path: "/x", isTLS: true))
        #expect(target.hostHeader == "example.test")
        #expect(target.description == "https://example.test/x")
        #expect(try HTTPTarget.parse("https://h:8443").hostHeader == "h:8443")
    }

    @Test func refusesOtherSchemesInOneLine() {
        for url in ["ftp://x/", "example.test", "http://h:99999/", "http://user@h/", "http://:80/", "https://"] {
            #expect(throws: ProbeError.self) { try HTTPTarget.parse(url) }
        }
        do { _ = try HTTPTarget.parse("ftp://example.test/") } catch let error as ProbeError {
            #expect(error.description.contains("expected http[s]://"))
            #expect(!error.description.contains("\n"))
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func parsesTCPAddresses() throws {
        guard case .tcp(let host, let port) = try ProbeTarget.parseTCP("[::1]:5432") else { Issue.record("not tcp"); return }
        #expect(host == "::1" && port == 5432)
        #expect(throws: ProbeError.self) { try ProbeTarget.parseTCP("localhost") }
    }

    @Test func requestsCarryHostAndExtraHeaders() {
        let builder = RequestBuilder(target: HTTPTarget(host: "h", port: 8080, path: "/p"), headers: [("X-A", "1")])
        let text = String(decoding: builder.request(method: "POST", bodySize: 3), as: UTF8.self)
        #expect(text == "POST /p HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: tacet-probe\r\nAccept: */*\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 3\r\nX-A: 1\r\n\r\n")
        let custom = RequestBuilder(target: HTTPTarget(host: "h"), headers: [("host", "other")])
        #expect(!String(decoding: custom.request(method: "GET"), as: UTF8.self).contains("Host: h\r\n"))
    }
}
