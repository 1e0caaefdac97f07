import Logging
import NIOCore
import NIOPosix
import NIOSSL
import TacetHTTP
import TacetTestSupport
import TacetTLS
import Testing

/// HTTPS listeners, and TLS's half-close handled as carefully as TCP's: a client that sends its
/// request and then `close_notify` (with or without a TCP FIN), or a bare FIN, gets its whole
/// answer, then Tacet's `close_notify` and FIN.
@Suite("TLS: termination and half-close on real sockets")
struct TLSTests {
    static let logger: Logger = {
        var logger = Logger(label: "tacet-tls-test")
        logger.logLevel = .critical
        return logger
    }()

    static func tls(_ certificates: [TestCertificate], minimum: TLSVersion = .tlsv12,
                    handshakeTimeout: TimeAmount = .seconds(10)) throws -> ServerTLS {
        try ServerTLS(certificates: certificates.map { try $0.loaded }, minimumVersion: minimum,
                      handshakeTimeout: handshakeTimeout, logger: logger)
    }

    static func server(_ tls: ServerTLS, settings: ServerSettings = ServerSettings(),
                       _ responder: any Responder = DelayedResponder(delay: .milliseconds(100), body: "late answer\n"))
    async throws -> LiveServer {
        try await LiveServer.start(settings: settings, prelude: tls) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: responder)]
        }
    }

    static let group = MultiThreadedEventLoopGroup.singleton

    @Test("A whole request, then close_notify and FIN: the whole response, then Tacet's close_notify",
          arguments: [true, false])
    func closeNotifyAfterRequest(withFIN: Bool) async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await Self.server(try Self.tls([certificate]))
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: Self.group)
            try await client.send(get("/slow"))
            try await client.closeNotify(fin: withFIN)
            let (text, end) = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.hasSuffix("late answer\n"))
            #expect(end == .closeNotify)
            await client.close()
        }
    }

    @Test("A whole request, then a bare TCP FIN (no close_notify): answered as on plain TCP")
    func bareFINAfterRequest() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"], kind: .rsa2048)
        let live = try await Self.server(try Self.tls([certificate]))
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: Self.group)
            try await client.send(get("/slow"))
            try await client.bareFIN()
            let (text, _) = await client.readToEnd()
            #expect(text.hasSuffix("late answer\n"), "\(text)")
            await client.close()
        }
    }

    @Test("Pipelined requests, then close_notify: every response in order")
    func pipelinedThenCloseNotify() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await Self.server(try Self.tls([certificate]))
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: Self.group)
            try await client.send(get("/1") + get("/2") + get("/3"))
            try await client.closeNotify()
            let (text, end) = await client.readToEnd()
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 4, "\(text)")
            #expect(end == .closeNotify)
            await client.close()
        }
    }

    @Test("A 2 MiB upload to a path that refuses it: the whole 413 over TLS (staged: close_notify, FIN), never an RST")
    func refusedUploadStaged() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 1024
        let live = try await Self.server(try Self.tls([certificate]), settings: settings, BodyCountResponder())
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: Self.group)
            let size = 2 * 1024 * 1024
            try await client.send("POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: \(size)\r\n\r\n")
            // The body keeps coming while Tacet answers and closes its side: it must all be read
            // and discarded, so the client's kernel never turns the 413 into an RST.
            let chunk = String(repeating: "x", count: 64 * 1024)
            for _ in 0..<(size / chunk.utf8.count) { try? await client.send(chunk) }
            try? await client.closeNotify()
            let (text, end) = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 413 "), "\(text.prefix(80))")
            #expect(text.contains("Connection: close"))
            #expect(end == .closeNotify)
            await client.close()
        }
    }

    @Test("SNI: an exact name and a wildcard choose their certificate; another name gets the first")
    func serverNameIndication() async throws {
        let first = try TestCertificate.make(names: ["default.test"])
        let exact = try TestCertificate.make(names: ["api.test"])
        let wildcard = try TestCertificate.make(names: ["*.apps.test"], kind: .rsa2048)
        let live = try await Self.server(try Self.tls([first, exact, wildcard]))
        try await whileRunning(live) {
            // Each client trusts only the certificate it expects, and checks the name: the
            // handshake succeeds only if that one was presented.
            for (name, expected) in [("api.test", exact), ("x.apps.test", wildcard), ("default.test", first)] {
                let client = try await TLSTestClient.connect(port: live.port, serverName: name,
                                                             trusting: [expected.certificate], group: Self.group)
                try await client.send(get("/"))
                #expect(await client.read(until: "late answer").hasSuffix("late answer\n"), "\(name)")
                await client.close()
            }
            await #expect(throws: (any Error).self) {
                _ = try await TLSTestClient.connect(port: live.port, serverName: "a.b.apps.test",
                                                    trusting: [wildcard.certificate], group: Self.group)
            }
        }
    }

    @Test("Plain HTTP to a TLS port: a plain-text 400 that says so, then FIN")
    func plainHTTPOnTLSPort() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await Self.server(try Self.tls([certificate]))
        try await whileRunning(live) {
            let client = try await live.connect()
            try await client.send(get("/"))
            let result = await client.readToEnd(timeout: 10)
            let response = result.responses().finalResponses.first
            #expect(response?.status == 400)
            #expect(response?.bodyString.contains("HTTPS port") == true)
            #expect(result.end == .fin)
        }
    }

    @Test("A client that never finishes its handshake is closed after handshake_timeout")
    func handshakeTimeout() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await Self.server(try Self.tls([certificate], handshakeTimeout: .milliseconds(200)))
        try await whileRunning(live) {
            let client = try await live.connect()
            // A TLS record header and nothing more: a handshake begun, never finished.
            try await client.write([0x16, 0x03, 0x01, 0x00, 0x40])
            let result = await client.readToEnd(timeout: 10)
            #expect(result.end != .timeout)
            #expect(await live.waitForNoConnections())
        }
    }

    @Test("min_version 1.3: a TLS 1.2-only client is refused, a 1.3 one served")
    func minimumVersion() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let live = try await Self.server(try Self.tls([certificate], minimum: .tlsv13))
        try await whileRunning(live) {
            await #expect(throws: (any Error).self) {
                _ = try await TLSTestClient.connect(port: live.port, serverName: "localhost", trusting: [certificate.certificate],
                                                    maximumVersion: .tlsv12, group: Self.group)
            }
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: Self.group)
            try await client.send(get("/"))
            #expect(await client.read(until: "late answer").hasSuffix("late answer\n"))
            await client.close()
        }
    }

    @Test("A key that is not the certificate's, or a file that is not PEM, is refused naming the file")
    func badFiles() throws {
        let a = try TestCertificate.make(names: ["a.test"])
        let b = try TestCertificate.make(names: ["b.test"])
        #expect(throws: TLSFileError.self) { try LoadedCertificate(certPath: a.certPath, keyPath: b.keyPath) }
        do {
            _ = try LoadedCertificate(certPath: a.certPath, keyPath: b.keyPath)
        } catch {
            #expect(error.file == b.keyPath)
            #expect(error.reason.contains("does not match"))
        }
        do {
            _ = try LoadedCertificate(certPath: a.keyPath, keyPath: a.keyPath)
        } catch {
            #expect(error.file == a.keyPath)
        }
        do {
            _ = try LoadedCertificate(certPath: "/nonexistent/cert.pem", keyPath: a.keyPath)
        } catch {
            #expect(error.description == "/nonexistent/cert.pem: No such file or directory")
        }
        let loaded = try a.loaded
        #expect(loaded.names == ["a.test"])
    }
}

/// Which certificate answers which server name, without TLS.
@Suite("TLS: server names")
struct ServerNamesTests {
    @Test func exactThenWildcardThenDefault() {
        let names = ServerNames([["default.test"], ["api.test", "www.api.test"], ["*.apps.test"], ["API.TEST"]])
        #expect(names.certificate(for: "api.test") == 1)
        #expect(names.certificate(for: "API.test.") == 1)
        #expect(names.certificate(for: "www.api.test") == 1)
        #expect(names.certificate(for: "x.apps.test") == 2)
        #expect(names.certificate(for: "apps.test") == nil)
        #expect(names.certificate(for: "a.b.apps.test") == nil)
        #expect(names.certificate(for: "other.test") == nil)
        #expect(names.certificate(for: nil) == nil)
        #expect(names.certificate(for: ".apps.test") == nil)
    }
}
