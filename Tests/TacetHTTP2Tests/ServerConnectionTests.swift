import Foundation
import NIOCore
import TacetHTTP
import Testing
@testable import TacetHTTP2

/// `HTTP2ServerConnection` on an EmbeddedChannel: the frames it writes for each case, what it
/// logs, and its timers on the embedded clock.
@Suite("HTTP/2: the server connection on an EmbeddedChannel")
struct ServerConnectionTests {
    @Test("A request with a body: one response, and the answer's frames in one write")
    func answered() throws {
        let h = try ServerConnectionHarness(responder: CountingResponder())
        _ = try h.frames()
        try h.request(1, method: "POST", extra: [("content-length", "5")], endStream: false)
        try h.data(1, 5, endStream: true)
        let frames = try h.frames()
        #expect(h.writes == 1, "the HEADERS and DATA of one answer in one write")
        guard case .headers(1, let fields, false)? = frames.first else { Issue.record("\(frames)"); return }
        #expect(fields[":status"] == "200" && fields["server"] == "tacet" && fields["content-length"] == "12")
        #expect(Array(frames.dropFirst()) == [.data(1, "got 5 bytes\n", endStream: true)])
        #expect(h.observer.all == ["200 complete"])
    }

    @Test("The client's FIN in the middle of a body: 400 on that stream (as HTTP/1.1 answers), not told 'half-closed'")
    func finMidBody() throws {
        let h = try ServerConnectionHarness(responder: CountingResponder())
        _ = try h.frames()
        try h.request(1, method: "POST", extra: [("content-length", "100")], endStream: false)
        try h.data(1, 10, endStream: false)
        h.fin()
        let frames = try h.frames()
        guard case .headers(1, let fields, false)? = frames.first else { Issue.record("\(frames)"); return }
        #expect(fields[":status"] == "400")
        #expect(frames.dropFirst().first == .data(1, "request ended before it was complete\n", endStream: true))
        #expect(h.observer.all.first == "400 server_close")
        #expect(h.observer.all.last == "closed client_fin")
    }

    @Test("No DATA for the body timeout: 408, logged timeout as on HTTP/1.1 (EmbeddedEventLoop time)")
    func bodyTimeout() throws {
        var settings = ServerSettings()
        settings.bodyTimeout = .seconds(5)
        let h = try ServerConnectionHarness(responder: CountingResponder(), settings: settings)
        _ = try h.frames()
        try h.request(1, method: "POST", extra: [("content-length", "100")], endStream: false)
        try h.data(1, 10, endStream: false)
        h.advance(by: .seconds(4))
        #expect(try h.frames().isEmpty)
        h.advance(by: .seconds(2))
        let frames = try h.frames()
        guard case .headers(1, let fields, false)? = frames.first else { Issue.record("\(frames)"); return }
        #expect(fields[":status"] == "408")
        // The upload is told to stop after the answer: RST_STREAM NO_ERROR follows END_STREAM.
        #expect(frames.last == .rst(1, .noError))
        #expect(h.observer.all == ["408 timeout"])
    }

    @Test("Idle for the keep-alive timeout: GOAWAY NO_ERROR naming the last stream, then our FIN")
    func idle() throws {
        var settings = ServerSettings()
        settings.keepaliveTimeout = .seconds(10)
        let h = try ServerConnectionHarness(responder: FixedResponder(status: .ok, body: "ok\n"), settings: settings)
        try h.request(1)
        _ = try h.frames()
        h.advance(by: .seconds(11))
        #expect(try h.frames() == [.goAway(1, .noError)])
    }

    @Test("A connection error closes the connection (it stayed open on NIOHTTP2): GOAWAY, then closed")
    func connectionErrorCloses() throws {
        let h = try ServerConnectionHarness(responder: FixedResponder(status: .ok, body: "ok\n"))
        try h.request(1)
        _ = try h.frames()
        var zero = ByteBuffer()
        FrameEncoder.windowUpdate(&zero, stream: 0, increment: 0)
        try h.send(zero)
        #expect(try h.frames() == [.goAway(1, .protocolError)])
        h.fin()  // the staged close ends with the client's FIN
        #expect(!h.channel.isActive)
    }

    /// A client that stops reading at the HTTP/2 level (a zero window, no WINDOW_UPDATE) while
    /// its TCP stays readable: without this, the stream's response would wait for ever.
    @Test("Streams waiting for window: closed after send_timeout without a WINDOW_UPDATE; each update restarts it")
    func windowStall() throws {
        var settings = ServerSettings()
        settings.sendTimeout = .seconds(60)
        settings.keepaliveTimeout = .seconds(3600)
        let h = try ServerConnectionHarness(responder: FixedResponder(status: .ok, body: "0123456789"), settings: settings)
        var zero = ByteBuffer()
        FrameEncoder.settings(&zero, [(.initialWindowSize, 0)])
        try h.send(zero)
        try h.request(1)
        let first = try h.frames()
        #expect(first.contains { if case .headers(1, _, endStream: false) = $0 { true } else { false } }, "\(first)")
        #expect(!first.contains { if case .data = $0 { true } else { false } }, "\(first)")
        h.advance(by: .seconds(40))
        var update = ByteBuffer()
        FrameEncoder.windowUpdate(&update, stream: 1, increment: 2)
        try h.send(update)
        #expect(try h.frames().contains(.data(1, "01", endStream: false)))
        h.advance(by: .seconds(40))
        #expect(h.channel.isActive, "an update is progress: 80 s in all, 40 since it")
        h.advance(by: .seconds(21))
        #expect(!h.channel.isActive)
    }

    /// A file response written in the read that brought its request: its last DATA frame carries
    /// END_STREAM (no empty DATA frame after it), all in one write.
    @Test("A small file: HEADERS, then one DATA frame with END_STREAM, in one write")
    func fileEndsOnItsLastFrame() throws {
        let path = NSTemporaryDirectory() + "tacet-h2-file-\(UUID().uuidString)"
        try "0123456789".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try ServerConnectionHarness(responder: FileResponder(path: path))
        _ = try h.frames()
        try h.request(1)
        let frames = try h.frames()
        #expect(h.writes == 1)
        #expect(frames.filter { if case .headers = $0 { false } else { true } } == [.data(1, "0123456789", endStream: true)],
                "\(frames)")
    }
}

/// Answers with the whole of one file, as the static route does.
private struct FileResponder: Responder {
    let path: String

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            writer.respond(ResponseHead(status: .notFound, body: .empty), body: nil)
            return nil
        }
        writer.writeHead(ResponseHead(status: .ok, body: .length(10)), flush: false)
        writer.writeFile(descriptor: fd, offset: 0, count: 10)
        writer.end()
        return nil
    }
}
