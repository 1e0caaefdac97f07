import NIOCore
import NIOPosix
import TacetTestSupport
import Testing
@testable import TacetUpstream

/// Status-line parsing, and real checks against loopback servers.
@Suite struct HealthCheckTests {
    @Test func statusLines() {
        func parse(_ text: String) -> StatusLine.Result { StatusLine.parse(ByteBuffer(string: text)) }
        #expect(parse("HTTP/1.1 200 OK\r\n") == .status(200))
        #expect(parse("HTTP/1.0 503\r\n") == .status(503))
        #expect(parse("HTTP/1.1 204 No Content\n") == .status(204))
        #expect(parse("HTTP/1.1 20") == .incomplete)
        #expect(parse("HTTP/1.1 2000 OK\r\n") == .invalid)
        #expect(parse("HTTP/2 200\r\n") == .invalid)
        #expect(parse("SSH-2.0-OpenSSH\r\n") == .invalid)
        #expect(parse("HTTP/1.1 099 x\r\n") == .invalid)
        #expect(parse(String(repeating: "x", count: 2000)) == .invalid)
        #expect(HealthCheck.request(path: "/h", server: UpstreamServer(host: "::1", port: 80))
            == "GET /h HTTP/1.1\r\nHost: [::1]:80\r\nUser-Agent: tacet-health\r\nConnection: close\r\n\r\n")
    }

    @Test func httpCheckAgainstRealServers() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ok = try await FixedReplyServer.start(group: group, reply: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        let failing = try await FixedReplyServer.start(group: group, reply: "HTTP/1.1 503 Busy\r\n\r\n")
        let garbage = try await FixedReplyServer.start(group: group, reply: "hello\r\n")
        let closedPort = refusingPort()
        let loop = group.next()
        let check = HealthCheck.http(path: "/health", expectStatus: Set(200...399), timeout: .seconds(5))
        func up(_ port: Int, _ check: HealthCheck = check) async throws -> Bool {
            try await HealthChecker.checkOnce(server: UpstreamServer(host: "127.0.0.1", port: port), check: check, on: loop).get()
        }
        #expect(try await up(ok.port))
        #expect(try await !up(failing.port))
        #expect(try await up(failing.port, .http(path: "/", expectStatus: [503], timeout: .seconds(5))))
        #expect(try await !up(garbage.port))
        #expect(try await !up(closedPort))
        #expect(try await up(garbage.port, .tcp(timeout: .seconds(5))))
        #expect(try await !up(closedPort, .tcp(timeout: .seconds(5))))
        #expect(ok.requests().first?.hasPrefix("GET /health HTTP/1.1\r\nHost: 127.0.0.1:\(ok.port)\r\n") == true)
        for server in [ok, failing, garbage] { try await server.close() }
        try await group.shutdownGracefully()
    }

    @Test func checkerMarksServersDownAndUp() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ok = try await FixedReplyServer.start(group: group, reply: "HTTP/1.1 200 OK\r\n\r\n")
        let closedPort = refusingPort()
        let upstream = UpstreamGroup(
            name: "app",
            servers: [UpstreamServer(host: "127.0.0.1", port: ok.port), UpstreamServer(host: "127.0.0.1", port: closedPort)],
            balance: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        let checker = HealthChecker()
        // The first round runs at once; wait for the closed port's verdict through the group itself.
        checker.start(group: upstream, eventLoopGroup: group,
                      check: .http(path: "/", expectStatus: [200], timeout: .seconds(5)), interval: .hours(1))
        while upstream.isUp(1) { await Task.yield() }
        #expect(upstream.isUp(0))
        checker.stop()
        try await ok.close()
        try await group.shutdownGracefully()
    }
}
