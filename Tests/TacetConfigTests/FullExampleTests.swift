import Testing
@testable import TacetConfig

@Suite struct FullExampleTests {
    static let example = """
        listen: ["127.0.0.1:8080", "[::1]:8080"]
        max_request_line: 4k
        max_header_size: 16K
        max_body_size: 2m
        max_connections: 500
        keepalive_requests: 100
        header_timeout: 30s
        body_timeout: 500ms
        keepalive_timeout: 2m
        send_timeout: 1h
        linger_timeout: 3
        linger_total: 20s
        shutdown_timeout: 15s
        access_log: { path: logs/access.log, format: json }
        routes:
          - match: { path: /health }
            respond: { status: 200, body: "ok\\n" }
          - match: { path: /teapot }
            respond:
              status: 418
              content_type: application/json
              headers: { X-Tea: earl grey, Cache-Control: no-store }
          - match: { path: /, host: Example.COM }
            static: { root: ./public }
          - match: { path: /docs }
            static: { root: public/, index: start.html }
        """

    @Test func parsesEveryKey() throws {
        try withTemporaryDirectory { dir in
            try makeDirectory(dir + "/public")
            try writeFile(dir + "/tacet.yaml", Self.example)
            let config = try ConfigLoader.load(path: dir + "/tacet.yaml")

            #expect(config.listen == [
                ListenAddress(host: "127.0.0.1", port: 8080),
                ListenAddress(host: "::1", port: 8080),
            ])
            #expect(config.limits == Limits(
                maxRequestLine: 4096, maxHeaderSize: 16384, maxBodySize: 2 * 1024 * 1024,
                maxConnections: 500, keepaliveRequests: 100))
            #expect(config.timeouts == Timeouts(
                header: .seconds(30), body: .milliseconds(500), keepalive: .seconds(120),
                send: .seconds(3600), linger: .seconds(3), lingerTotal: .seconds(20), shutdown: .seconds(15)))
            #expect(config.accessLog == AccessLogConfig(destination: .file(dir + "/logs/access.log"), format: .json))
            #expect(config.routes == [
                Route(match: RouteMatch(host: nil, path: "/health"),
                      action: .respond(FixedResponse(status: 200, body: "ok\n")), line: 16),
                Route(match: RouteMatch(host: nil, path: "/teapot"),
                      action: .respond(FixedResponse(
                        status: 418, body: "", contentType: "application/json",
                        headers: [.init(name: "X-Tea", value: "earl grey"), .init(name: "Cache-Control", value: "no-store")])),
                      line: 18),
                Route(match: RouteMatch(host: "example.com", path: "/"),
                      action: .staticFiles(StaticFiles(root: dir + "/public", index: "index.html")), line: 23),
                Route(match: RouteMatch(host: nil, path: "/docs"),
                      action: .staticFiles(StaticFiles(root: dir + "/public", index: "start.html")), line: 25),
            ])
        }
    }

    @Test func emptyDocumentGivesDefaults() throws {
        let defaults = TacetConfiguration()
        #expect(try parse("") == defaults)
        #expect(try parse("# only a comment\n") == defaults)
        #expect(try parse("---\n") == defaults)
        #expect(defaults.listen == [ListenAddress(host: "127.0.0.1", port: 8080)])
        #expect(defaults.routes.isEmpty)
        #expect(defaults.limits == Limits(
            maxRequestLine: 8192, maxHeaderSize: 32768, maxBodySize: 1_048_576,
            maxConnections: 10_000, keepaliveRequests: 1000))
        #expect(defaults.timeouts == Timeouts(
            header: .seconds(60), body: .seconds(60), keepalive: .seconds(75), send: .seconds(60),
            linger: .seconds(5), lingerTotal: .seconds(30), shutdown: .seconds(10)))
        #expect(defaults.accessLog == AccessLogConfig(destination: .stdout, format: .combined))
    }

    @Test func singleListenString() throws {
        #expect(try parse("listen: \":9000\"").listen == [ListenAddress(host: "0.0.0.0", port: 9000)])
        #expect(try parse("listen: localhost:80").listen == [ListenAddress(host: "localhost", port: 80)])
    }

    @Test func accessLogForms() throws {
        #expect(try parse("access_log: off").accessLog == AccessLogConfig(destination: .off))
        #expect(try parse("access_log: stdout").accessLog == AccessLogConfig(destination: .stdout))
        #expect(try parse("access_log: a.log", base: "/var/tacet").accessLog
            == AccessLogConfig(destination: .file("/var/tacet/a.log")))
        #expect(try parse("access_log: { format: json }").accessLog == AccessLogConfig(destination: .stdout, format: .json))
        #expect(try parse("access_log: { path: off }").accessLog == AccessLogConfig(destination: .off))
    }

    @Test func defaultConfigurationServesRoot() {
        let config = ConfigLoader.defaultConfiguration(root: "/srv/www/", listen: [])
        #expect(config.listen == TacetConfiguration.defaultListen)
        #expect(config.routes == [
            Route(match: RouteMatch(host: nil, path: "/"), action: .staticFiles(StaticFiles(root: "/srv/www")), line: 0),
        ])
        let other = ConfigLoader.defaultConfiguration(root: "/srv", listen: [ListenAddress(host: "::", port: 80)])
        #expect(other.listen == [ListenAddress(host: "::", port: 80)])
    }
}
