import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHPACK
import NIOHTTP2
import TacetHTTP
import TacetHTTP2
import TacetStatic
import TacetTestSupport
import TacetTLS
import Testing

/// HTTP/2 on real sockets, with a frame-level client: ALPN and prior knowledge, the same routes
/// as HTTP/1.1, END_STREAM as the end of a request, RST_STREAM as the client leaving one
/// request, its FIN with streams in flight, and Tacet's own two-step GOAWAY.
@Suite("HTTP/2 on real sockets")
struct HTTP2Tests {
    static func tlsServer(_ responder: any Responder, settings: ServerSettings = ServerSettings()) async throws
    -> (LiveServer, TestCertificate) {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let tls = try ServerTLS(certificates: [try certificate.loaded], minimumVersion: .tlsv12, handshakeTimeout: .seconds(10),
                                http2: true, logger: TLSTests.logger)
        let live = try await LiveServer.start(settings: settings, prelude: tls, protocols: HTTP2Protocols(mode: .alpn)) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: responder)]
        }
        return (live, certificate)
    }

    static func plainServer(_ responder: any Responder, settings: ServerSettings = ServerSettings()) async throws -> LiveServer {
        try await LiveServer.start(settings: settings, protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: responder)]
        }
    }

    @Test("ALPN h2 over TLS: a fixed route answers, and the access line says HTTP/2.0")
    func alpn() async throws {
        let (live, certificate) = try await Self.tlsServer(FixedResponder(status: .ok, body: "over h2\n"))
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port, trusting: [certificate.certificate])
            try await client.request(1, "/hello")
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "over h2\n")
            #expect(response.headerBlocks.first?.first(name: "server") == "tacet")
            #expect(response.headerBlocks.first?.first(name: "content-length") == "8")
            #expect(await live.waitForAccessLog(containing: "\"GET /hello HTTP/2.0\" 200 8"))
            await client.close()
        }
    }

    @Test("Prior knowledge on a plain listener with http2: true; HTTP/1.1 still served on the same port")
    func priorKnowledgeAndHTTP1() async throws {
        let live = try await Self.plainServer(FixedResponder(status: .ok, body: "both\n"))
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/")
            #expect(await client.waitForEnd(1).body == "both\n")
            await client.close()
            let http1 = try await live.connect(sending: "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let text = String(decoding: await http1.readToEnd(timeout: 10).bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text)")
            #expect(text.hasSuffix("both\n"))
        }
    }

    @Test("END_STREAM, then a slow answer: answered, never cancelled")
    func endStreamIsNotAnAbort() async throws {
        let delayed = DelayedResponder(delay: .milliseconds(200), body: "late\n")
        let live = try await Self.plainServer(delayed)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/slow")
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "late\n")
            #expect(!delayed.recorder.all.contains { $0.hasPrefix("cancel") }, "\(delayed.recorder.all)")
            await client.close()
        }
    }

    @Test("RST_STREAM while the route works: the route is cancelled at once, 499 client_rst_stream; other streams go on")
    func resetStreamCancels() async throws {
        let delayed = DelayedResponder(delay: .seconds(30), body: "never\n")
        let fast = FixedResponder(status: .ok, body: "fast\n")
        let live = try await LiveServer.start(protocols: HTTP2Protocols(mode: .priorKnowledge)) { _ in
            [Router.Route(host: nil, pathPrefix: "/slow", responder: delayed),
             Router.Route(host: nil, pathPrefix: "/", responder: fast)]
        }
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/slow")
            #expect(await eventually { delayed.recorder.contains("start /slow") })
            try await client.reset(1)
            #expect(await eventually { delayed.recorder.contains("cancel:client_rst_stream") }, "\(delayed.recorder.all)")
            #expect(await live.waitForAccessLog(containing: "\"GET /slow HTTP/2.0\" 499"))
            try await client.request(3, "/other")
            #expect(await client.waitForEnd(3).body == "fast\n")
            await client.close()
        }
    }

    @Test("A body on a POST (DATA frames, then END_STREAM) reaches the route whole")
    func postBody() async throws {
        let live = try await Self.plainServer(BodyCountResponder())
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/upload", method: "POST", endStream: false)
            try await client.data(1, String(repeating: "x", count: 40_000), endStream: false)
            try await client.data(1, String(repeating: "y", count: 10_000), endStream: true)
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "got 50000 bytes\n")
            await client.close()
        }
    }

    @Test("A route that pauses the body and resumes it (as the proxy does for a slow upstream) gets all of it")
    func pausedBodyResumes() async throws {
        let live = try await Self.plainServer(PausingResponder())
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/upload", method: "POST", endStream: false)
            try await client.data(1, String(repeating: "a", count: 30_000), endStream: false)
            try await client.data(1, String(repeating: "b", count: 30_000), endStream: false)
            try await client.data(1, String(repeating: "c", count: 30_000), endStream: true)
            let response = await client.waitForEnd(1)
            #expect(response.body == "got 90000 bytes after 1 pause\n")
            await client.close()
        }
    }

    @Test("A body over the limit: 413 on that stream, the connection goes on")
    func bodyTooLarge() async throws {
        var settings = ServerSettings()
        settings.parserLimits.maxBodySize = 1000
        let live = try await Self.plainServer(BodyCountResponder(), settings: settings)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/upload", method: "POST", extra: [("content-length", "5000")], endStream: false)
            #expect(await client.waitForEnd(1).status == 413)
            try await client.request(3, "/upload", method: "POST", endStream: false)
            try await client.data(3, String(repeating: "z", count: 1500), endStream: false)
            #expect(await client.waitForEnd(3).status == 413)
            try await client.request(5, "/after")
            #expect(await client.waitForEnd(5).status == 200)
            await client.close()
        }
    }

    @Test("A TCP FIN with a stream in flight (on_client_fin serve): the route hears of it, answers, then the connection closes")
    func finWithStreamInFlight() async throws {
        let gated = GatedResponder()
        let live = try await Self.plainServer(gated)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/slow")
            #expect(await eventually { gated.recorder.contains("start /slow") })
            try await client.finish()
            #expect(await eventually { gated.recorder.contains("halfclose") }, "\(gated.recorder.all)")
            gated.release()
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "answer to /slow after 0 body bytes\n")
            #expect(!gated.recorder.all.contains { $0.hasPrefix("cancel") })
            #expect(await client.wait { $0.isClosed })
        }
    }

    @Test("A response bigger than the window after the client's FIN cannot finish (no WINDOW_UPDATE can come): cut, and logged write_failed, not complete")
    func bigAnswerAfterFINIsNotLoggedComplete() async throws {
        // The route answers once it has heard of the FIN: no DATA before it, so no WINDOW_UPDATE.
        let live = try await Self.plainServer(BigAnswerAfterFIN())
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            try await client.request(1, "/big")
            try await client.finish()
            #expect(await client.wait { $0.isClosed })
            let response = await client.waitForEnd(1)
            #expect(response.body.utf8.count < BigAnswerAfterFIN.size)
            #expect(await live.waitForAccessLog(containing: "\"GET /big HTTP/2.0\" 200"), "\(live.accessLogLines)")
            let line = live.accessLogLines.first { $0.contains("GET /big") } ?? ""
            #expect(line.contains(" write_failed") && !line.contains(" complete"), "\(line)")
        }
    }

    @Test("After the client's FIN, a response within the window but bigger than the socket takes at once arrives whole before the close, logged complete")
    func bigAnswerWithinTheWindowAfterFINArrivesWhole() async throws {
        let live = try await Self.plainServer(BigAnswerAfterFIN(size: 4 << 20))
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            // Windows big enough for the whole answer: only the socket holds it back.
            try await client.send(HTTP2Frame(streamID: .rootStream, payload: .settings(.settings([HTTP2Setting(parameter: .initialWindowSize, value: 8 << 20)]))),
                                  HTTP2Frame(streamID: .rootStream, payload: .windowUpdate(windowSizeIncrement: 8 << 20)))
            try await client.request(1, "/big")
            try await client.finish()
            let response = await client.waitForEnd(1, timeout: 30)
            #expect(response.body.utf8.count == 4 << 20)
            #expect(response.ended)
            #expect(await live.waitForAccessLog(containing: "\"GET /big HTTP/2.0\" 200"), "\(live.accessLogLines)")
            let line = live.accessLogLines.first { $0.contains("GET /big") } ?? ""
            #expect(line.contains(" complete"), "\(line)")
        }
    }

    @Test("close_notify with a stream in flight over TLS: answered too")
    func closeNotifyWithStreamInFlight() async throws {
        let delayed = DelayedResponder(delay: .milliseconds(200), body: "after close_notify\n")
        let (live, certificate) = try await Self.tlsServer(delayed)
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port, trusting: [certificate.certificate])
            try await client.request(1, "/slow")
            #expect(await eventually { delayed.recorder.contains("start /slow") })
            try await client.finish()
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "after close_notify\n")
            await client.close()
        }
    }

    @Test("Tacet's graceful stop: GOAWAY (max id) and PING, then GOAWAY with the last stream; the stream in flight finishes")
    func twoStepGoaway() async throws {
        let delayed = DelayedResponder(delay: .milliseconds(300), body: "finished\n")
        let live = try await Self.plainServer(delayed)
        let client = try await HTTP2TestClient.connect(port: live.port)
        try await client.request(1, "/slow")
        #expect(await eventually { delayed.recorder.contains("start /slow") })
        async let stopped: Void = live.stop()
        let goaways = await client.wait { c in
            c.connectionFrames.filter { if case .goAway = $0.payload { return true } else { return false } }.count >= 2
        }
        #expect(goaways)
        let lastIDs = client.connectionFrames.compactMap { frame -> HTTP2StreamID? in
            if case .goAway(let last, _, _) = frame.payload { return last } else { return nil }
        }
        #expect(lastIDs == [.maxID, HTTP2StreamID(1)])
        let response = await client.waitForEnd(1)
        #expect(response.body == "finished\n")
        await stopped
        await client.close()
    }

    @Test("A static file over h2: whole, a range, and HEAD without a body")
    func staticFile() async throws {
        let root = NSTemporaryDirectory() + "tacet-h2-static-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let content = String(repeating: "0123456789", count: 50_000)
        try content.write(toFile: root + "/f.txt", atomically: true, encoding: .utf8)
        let (live, certificate) = try await Self.tlsServer(StaticResponder(root: root))
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port, trusting: [certificate.certificate])
            try await client.request(1, "/f.txt")
            try await client.request(3, "/f.txt", method: "GET", extra: [("range", "bytes=10-19")])
            try await client.request(5, "/f.txt", method: "HEAD")
            let whole = await client.waitForEnd(1)
            #expect(whole.status == 200)
            let same = whole.body == content
            #expect(same, "\(whole.body.count) bytes of \(content.count)")
            let range = await client.waitForEnd(3)
            #expect(range.status == 206)
            #expect(range.body == "0123456789")
            let head = await client.waitForEnd(5)
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(head.headerBlocks.first?.first(name: "content-length") == "500000")
            await client.close()
        }
    }
}

/// Pauses the request body at its first part and resumes it in a later event-loop task, as the
/// proxy does while its upstream is not writable; answers with the bytes it got.
struct PausingResponder: Responder {
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        PausingHandler(writer: writer)
    }
}

final class PausingHandler: RequestHandler {
    let writer: ResponseWriter
    var bytes = 0
    var pauses = 0

    init(writer: ResponseWriter) { self.writer = writer }

    func requestBodyPart(_ buffer: ByteBuffer) {
        bytes += buffer.readableBytes
        guard pauses == 0 else { return }
        pauses += 1
        writer.pauseRequestBody(true)
        let bound = NIOLoopBound(self, eventLoop: writer.eventLoop)
        writer.eventLoop.execute { bound.value.writer.pauseRequestBody(false) }
    }

    func requestEnded() {
        let body = ByteBuffer(string: "got \(bytes) bytes after \(pauses) pause\n")
        writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
    }

    func cancel(_ reason: ConnectionEndReason) {}
}

/// An HTTP/1.1 connection on a TLS listener that offers h2: its handler is added after ALPN,
/// when the channel is already active, and must still report the connection opened and closed.
@Suite("HTTP/1.1 behind ALPN: connection metrics")
struct ALPNHTTP1MetricsTests {
    final class Counts: HTTPObserver, Sendable {
        let counts = NIOLockedValueBox((opened: 0, closed: 0))
        func connectionOpened() { counts.withLockedValue { $0.opened += 1 } }
        func connectionClosed(reason: ConnectionEndReason) { counts.withLockedValue { $0.closed += 1 } }
        func bytesTransferred(in: Int, out: Int) {}
        func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {}
        func probeSent(route: String) {}
        func probeAnsweredByReset(route: String) {}
    }

    @Test func openedAndClosedAreBothCounted() async throws {
        let certificate = try TestCertificate.make(names: ["localhost"])
        let tls = try ServerTLS(certificates: [try certificate.loaded], minimumVersion: .tlsv12, handshakeTimeout: .seconds(10),
                                http2: true, logger: TLSTests.logger)
        let counts = Counts()
        let live = try await LiveServer.start(prelude: tls, protocols: HTTP2Protocols(mode: .alpn), observer: counts) { _ in
            [Router.Route(host: nil, pathPrefix: "/", responder: FixedResponder(status: .ok, body: "h1\n"))]
        }
        try await whileRunning(live) {
            let client = try await TLSTestClient.connect(port: live.port, serverName: "localhost",
                                                         trusting: [certificate.certificate], group: TLSTests.group)
            try await client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let (text, _) = await client.readToEnd()
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            await client.close()
            #expect(await eventually { counts.counts.withLockedValue { $0.closed } == 1 })
            #expect(counts.counts.withLockedValue { $0.opened } == 1)
        }
    }
}

/// Answers 1 MiB once the client's FIN has reached the route.
private struct BigAnswerAfterFIN: Responder {
    static let size = 1 << 20
    var size = Self.size

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? { Handler(writer: writer, size: size) }

    final class Handler: RequestHandler {
        let writer: ResponseWriter
        let size: Int
        init(writer: ResponseWriter, size: Int) {
            self.writer = writer
            self.size = size
        }
        func clientHalfClosed() {
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
            writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
        }
        func cancel(_ reason: ConnectionEndReason) {}
    }
}
