import Testing
@testable import TacetProbe
import TacetTestSupport

private let response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
private let request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

/// The client against a raw-socket server doing one exact thing; FIN and RST checked both ways.
@Suite struct RawClientTests {
    @Test func halfClosedClientGetsTheAnswerThenFIN() throws {
        let server = try TestServer { socket -> PeerEnd in
            let (_, end) = socket.readToEnd()
            socket.write(response)
            socket.shutdownWrite()
            return end
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write(request)
        try client.shutdownWrite()
        let result = client.readToEnd(timeout: 5)
        #expect(try server.result() == .fin)
        #expect(result.end == .fin)
        #expect(result.string == response)
        let kinds = client.timeline.map(\.kind)
        #expect(kinds == [.connected, .written, .shutdownWrite, .firstByte, .statusLine, .bodyComplete, .fin])
        let times = client.timeline.map(\.ms)
        #expect(times == times.sorted())
    }

    @Test func serverResetIsSeenAsRST() throws {
        let server = try TestServer { socket -> Bool in
            _ = socket.read(until: "\r\n\r\n")
            socket.reset()
            return true
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write(request)
        let result = client.readToEnd(timeout: 5)
        _ = try server.result()
        #expect(result.end == .rst)
        #expect(result.bytes.isEmpty)
        #expect(client.timeline.last?.kind == .rst)
        // A later read says the same at once; a write after the RST is EPIPE.
        #expect(client.readToEnd(timeout: 5).end == .rst)
        #expect(throws: RawClientError.self) { try client.write("more") }
        do { try client.write("more") } catch let error as RawClientError {
            #expect(error.isBrokenPipe || error.isPeerReset)
        }
    }

    @Test func responseThenResetShowsTheResponseThenRST() throws {
        let server = try TestServer { socket -> Bool in
            _ = socket.read(until: "\r\n\r\n")
            socket.write(response)
            _ = socket.read(until: "next")
            socket.reset()
            return true
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write(request)
        let first = client.readResponses(count: 1, timeout: 5)
        #expect(first.end == .open)
        #expect(first.responses().completeFinalCount == 1)
        try client.write("next")
        let rest = client.readToEnd(timeout: 5)
        #expect(rest.end == .rst)
        #expect(rest.bytes.isEmpty)
        _ = try server.result()
    }

    @Test func serverSeesShutdownWriteAsFINAndStillAnswers() throws {
        let server = try TestServer { socket -> PeerEnd in
            let (bytes, end) = socket.readToEnd()
            socket.write("got \(bytes.count)")
            return end
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write("abc")
        try client.shutdownWrite()
        let result = client.readToEnd(timeout: 5)
        #expect(try server.result() == .fin)
        #expect(result.string == "got 3")
        #expect(result.end == .fin)
    }

    @Test func serverSeesClientResetAsRST() throws {
        let server = try TestServer { socket -> PeerEnd in
            _ = socket.read(until: "abc")
            socket.write("ack")
            return socket.readToEnd().end
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write("abc")
        _ = client.read(until: { $0.count >= 3 }, timeout: 5)
        client.reset()
        #expect(try server.result() == .rst)
        #expect(client.timeline.last?.kind == .reset)
    }

    @Test func serverSeesClientCloseAsFIN() throws {
        let server = try TestServer { socket -> PeerEnd in socket.readToEnd().end }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write("abc")
        client.close()
        #expect(try server.result() == .fin)
        #expect(client.readToEnd(timeout: 1).bytes.isEmpty)
    }

    @Test func silentServerTimesOutWithinTheDeadline() throws {
        let server = try TestServer { socket -> PeerEnd in socket.readToEnd().end }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        let before = client.elapsedMs
        let result = client.readToEnd(timeout: 0.2)
        #expect(result.end == .timeout)
        #expect(result.elapsedMs - before >= 199)
        #expect(result.elapsedMs - before < 2_000)
        client.close()
        #expect(try server.result() == .fin)
    }

    @Test func readUntilStopsWithTheConnectionOpen() throws {
        let server = try TestServer { socket -> PeerEnd in
            socket.write("HTTP/1.1 103 Early Hints\r\n\r\n")
            _ = socket.read(until: "go")
            socket.write(response)
            return socket.readToEnd().end
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        let interim = client.read(until: { contains($0, Array("\r\n\r\n".utf8)) }, timeout: 5)
        #expect(interim.end == .open)
        #expect(interim.responses().interimResponses.map(\.status) == [103])
        try client.write("go")
        let final = client.readResponses(count: 1, timeout: 5)
        #expect(final.end == .open)
        #expect(final.responses().finalResponses.first?.bodyString == "hello\n")
        #expect(client.timeline.map(\.kind).contains(.interim))
        try client.shutdownWrite()
        #expect(try server.result() == .fin)
    }

    @Test func largeWriteToAResettingServerFailsWithTheReset() throws {
        // The server answers without reading the body, then resets: the write fails with the reset,
        // and the answer it sent first is either kept or destroyed: we report which, never hang.
        let server = try TestServer { socket -> Bool in
            _ = socket.read(until: "\r\n\r\n")
            socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            socket.reset()
            return true
        }
        let client = try RawClient.connect(host: "127.0.0.1", port: server.port)
        try client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n")
        _ = try server.result()
        var failure: RawClientError?
        do { try client.write([UInt8](repeating: 0x61, count: 8 << 20)) } catch let error as RawClientError { failure = error }
        #expect(failure?.isPeerReset == true || failure?.isBrokenPipe == true)
        let rest = client.readToEnd(timeout: 5)
        #expect(rest.end == .rst)
    }

    @Test func localPortMatchesWhatTheServerSees() throws {
        let server = try TestServer { socket -> Int in
            let port = socket.peerPort
            _ = socket.readToEnd()
            return port
        }
        let client = try RawClient.connect(host: "localhost", port: server.port)
        let local = client.localPort
        client.close()
        #expect(try server.result() == local)
    }

    @Test func connectsOverIPv6() throws {
        guard let server = try? TestServer(ipv6: true, handler: { socket -> PeerEnd in
            socket.write(response)
            return socket.readToEnd().end
        }) else {
            print("skipped: no IPv6 loopback here")
            return
        }
        let client = try RawClient.connect(host: "[::1]", port: server.port)
        #expect(client.remoteAddress.hasPrefix("[::1]"))
        #expect(client.readResponses(count: 1, timeout: 5).end == .open)
        client.close()
        #expect(try server.result() == .fin)
    }

    @Test func refusedConnectionIsAOneLineError() throws {
        let port = refusingPort()
        do {
            _ = try RawClient.connect(host: "127.0.0.1", port: port, timeout: 2)
            Issue.record("connected to a port nothing listens on")
        } catch let error as RawClientError {
            #expect(error.kind == .refused)
            #expect(error.description == "connection refused by 127.0.0.1:\(port)")
        }
    }

    @Test func unresolvableHostIsAOneLineError() throws {
        do {
            _ = try RawClient.connect(host: "no-such-host.invalid", port: 80, timeout: 2)
            Issue.record("resolved a .invalid name")
        } catch let error as RawClientError {
            #expect(error.kind == .resolve)
            #expect(error.description.hasPrefix("cannot resolve host 'no-such-host.invalid'"))
            #expect(!error.description.contains("\n"))
        }
    }
}
