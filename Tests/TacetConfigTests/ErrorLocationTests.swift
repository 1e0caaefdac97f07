import Testing
@testable import TacetConfig

/// Every error names file, line, column and key path; a few descriptions are checked verbatim.
@Suite struct ErrorLocationTests {
    @Test func typeMismatchDescription() {
        let yaml = """
            routes:
              - match: { path: /health }
                respond: { status: 200 }
              - match: { path: / }
                static:
                  root: { a: b }
            """
        #expect(configError(yaml)?.description
            == "tacet.yaml:6:13: routes[1].static.root: expected a string, got a mapping")
    }

    @Test func unknownKeyNamesKeyAndLine() {
        let yaml = """
            routes:
              - match: { path: / }
                static:
                  roots: ./public
            """
        #expect(configError(yaml)?.description
            == "tacet.yaml:4:7: routes[0].static: unknown key 'roots' (expected one of: root, index, precompressed, try_files, autoindex)")
    }

    @Test func unknownTopLevelKey() throws {
        let error = try #require(configError("listen: \":80\"\nmax_body: 1m\n"))
        #expect((error.line, error.column, error.keyPath) == (2, 1, ""))
        #expect(error.message.hasPrefix("unknown key 'max_body' (expected one of: listen, max_request_line,"))
    }

    @Test func unknownActionIsUnknownKey() {
        let yaml = """
            routes:
              - match: { path: / }
                rewrite: { to: "http://x" }
            """
        #expect(configError(yaml)?.description
            == "tacet.yaml:3:5: routes[0]: unknown key 'rewrite' (expected one of: match, respond, static, proxy, redirect, allow, deny, headers, compression, error_pages, cors, auth, cache)")
    }

    @Test func missingRequiredKeyNamesParentLine() {
        #expect(configError("routes:\n  - respond: { status: 200 }\n")?.description
            == "tacet.yaml:2:5: routes[0]: missing required key 'match'")
        #expect(configError("routes:\n  - match: {}\n    respond: { status: 200 }\n")?.description
            == "tacet.yaml:2:12: routes[0].match: must give a 'path', a 'host', or both")
        #expect(configError("routes:\n  - match: { path: / }\n    respond: { body: x }\n")?.description
            == "tacet.yaml:3:14: routes[0].respond: missing required key 'status'")
    }

    @Test func routeNeedsExactlyOneAction() {
        #expect(configError("routes:\n  - match: { path: / }\n")?.description
            == "tacet.yaml:2:5: routes[0]: missing an action (one of: respond, static, proxy, redirect)")
        let both = """
            routes:
              - match: { path: / }
                respond: { status: 200 }
                static: { root: / }
            """
        #expect(configError(both)?.description
            == "tacet.yaml:4:5: routes[0]: a route has exactly one action, but both 'respond' and 'static' are given")
    }

    @Test func statusOutOfRange() {
        let yaml = "routes:\n  - match: { path: / }\n    respond: { status: 700 }\n"
        #expect(configError(yaml)?.description
            == "tacet.yaml:3:24: routes[0].respond.status: must be in 200...599, got 700")
        let low = "routes:\n  - match: { path: / }\n    respond: { status: 101 }\n"
        #expect(configError(low)?.message == "must be in 200...599, got 101")
        let text = "routes:\n  - match: { path: / }\n    respond: { status: ok }\n"
        #expect(configError(text)?.message == "expected an HTTP status code, got 'ok'")
    }

    @Test func pathMustStartWithSlash() {
        let yaml = "routes:\n  - match: { path: health }\n    respond: { status: 200 }\n"
        #expect(configError(yaml)?.description
            == "tacet.yaml:2:20: routes[0].match.path: must start with '/', got 'health'")
    }

    @Test func matchHostRules() throws {
        let withPort = "routes:\n  - match: { path: /, host: a.com:80 }\n    respond: { status: 200 }\n"
        #expect(configError(withPort)?.keyPath == "routes[0].match.host")
        #expect(configError(withPort)?.message == "must be a host name without a port, got 'a.com:80'")
        let ipv6 = "routes:\n  - match: { path: /, host: \"[::1]\" }\n    respond: { status: 200 }\n"
        #expect(try parse(ipv6).routes.first?.match.host == "[::1]")
    }

    @Test func badListenAddress() {
        #expect(configError("listen: [\"127.0.0.1:8080\", \"nope\"]")?.description
            == "tacet.yaml:1:28: listen[1]: invalid listen address 'nope': missing port (expected HOST:PORT, e.g. 127.0.0.1:8080)")
        #expect(configError("listen: \"::1:80\"")?.message
            == "invalid listen address '::1:80': IPv6 addresses need brackets, e.g. [::1]:8080")
        #expect(configError("listen: [\":80\", \"0.0.0.0:80\"]")?.message
            == "duplicate listen address '0.0.0.0:80'")
    }

    @Test func emptyListenList() {
        #expect(configError("listen: []")?.description == "tacet.yaml:1:9: listen: must list at least one address")
        #expect(configError("listen:\n")?.description == "tacet.yaml:1:8: listen: expected a string, got null")
    }

    @Test func badDuration() {
        #expect(configError("header_timeout: 5 parsecs")?.description
            == "tacet.yaml:1:17: header_timeout: expected a duration (e.g. 500ms, 60s, 5m, 1h), got '5 parsecs'")
    }

    @Test func zeroAndNegativeValues() {
        #expect(configError("send_timeout: 0s")?.description
            == "tacet.yaml:1:15: send_timeout: must be greater than zero, got '0s'")
        #expect(configError("max_body_size: 0")?.message == "must be greater than zero, got '0'")
        #expect(configError("max_header_size: -1k")?.message == "must be greater than zero, got '-1k'")
        #expect(configError("max_connections: 0")?.keyPath == "max_connections")
        #expect(configError("keepalive_requests: 1.5")?.message == "expected a positive integer, got '1.5'")
        #expect(configError("max_request_line: 99999999999999999999g")?.message == "too large: '99999999999999999999g'")
    }

    @Test func wrongContainerKinds() {
        #expect(configError("- a\n- b\n")?.description == "tacet.yaml:1:1: expected a mapping, got a sequence")
        #expect(configError("routes: { a: b }")?.description == "tacet.yaml:1:9: routes: expected a sequence, got a mapping")
        #expect(configError("routes:\n  - /health\n")?.description
            == "tacet.yaml:2:5: routes[0]: expected a mapping, got '/health'")
        #expect(configError("max_body_size: [1]")?.message == "expected a size, got a sequence")
    }

    @Test func accessLogErrors() {
        #expect(configError("access_log: { format: xml }")?.description
            == "tacet.yaml:1:23: access_log.format: unknown format 'xml' (expected one of: combined, json)")
        #expect(configError("access_log: \"\"")?.message == "must not be empty")
        #expect(configError("access_log: { path: x, level: info }")?.message
            == "unknown key 'level' (expected one of: path, format)")
    }

    @Test func headerValidation() {
        func headers(_ flow: String) -> String {
            "routes:\n  - match: { path: / }\n    respond: { status: 200, headers: \(flow) }\n"
        }
        #expect(configError(headers("{ \"Bad Name\": x }"))?.message == "invalid header name 'Bad Name'")
        #expect(configError(headers("{ X-A: \"a\\r\\nSet-Cookie: x\" }"))?.keyPath == "routes[0].respond.headers.X-A")
        #expect(configError(headers("{ X-A: \"a\\r\\nSet-Cookie: x\" }"))?.message
            == "must not contain line breaks or control characters")
        #expect(configError(headers("{ Content-Length: 5 }"))?.message
            == "header 'Content-Length' is set by the server and cannot be configured")
        #expect(configError(headers("[a]"))?.message == "expected a mapping, got a sequence")
    }

    @Test func duplicateKeyIsLocated() throws {
        let error = try #require(configError("max_body_size: 1m\nlisten: \":80\"\nmax_body_size: 2m\n"))
        #expect(error.line == 1)
        #expect(error.message == "duplicate key 'max_body_size'")
    }
}
