import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TacetHTTP

@Suite("Connection handler: timeouts")
struct ConnectionHandlerTimeoutTests {
    @Test("A slow head gets 408 once the event loop's clock passes the header timeout")
    func headerTimeoutOnEventLoopClock() throws {
        let h = try Harness()
        try h.send("GET / HTTP/1.1\r\n")
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        let out = try h.output()
        #expect(parseResponses(out).map(\.status) == [408])
    }

    @Test("A slow head gets 408 with Connection: close (short timeout, on the event loop's clock)")
    func headerTimeoutShort() throws {
        var settings = ServerSettings()
        settings.headerTimeout = .milliseconds(20)
        let h = try Harness(settings: settings)
        try h.send("GET / HTTP/1.1\r\n")
        h.channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))
        let r = parseResponses(try h.output())
        #expect(r.map(\.status) == [408])
        #expect(r.first?.header("Connection") == "close")
        #expect(h.handler.machine.endReason == .timeout)
    }

    @Test("An idle connection times out silently (short timeout, on the event loop's clock)")
    func idleTimeoutShort() throws {
        var settings = ServerSettings()
        settings.headerTimeout = .milliseconds(20)
        settings.keepaliveTimeout = .milliseconds(20)
        let h = try Harness(settings: settings)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(parseResponses(try h.output()).count == 1)
        h.channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))
        #expect(try h.output() == "")
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .timeout)
    }

    @Test("A slow body gets 408 and the route is cancelled (short timeout, on the event loop's clock)")
    func bodyTimeoutShort() throws {
        var settings = ServerSettings()
        settings.bodyTimeout = .milliseconds(20)
        let later = LaterResponder()
        let h = try Harness(settings: settings, responder: later)
        try h.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
        h.channel.embeddedEventLoop.advanceTime(by: .milliseconds(60))
        #expect(later.handlers.first?.cancelled == .timeout)
        #expect(parseResponses(try h.output()).map(\.status) == [408])
    }

    @Test("A client that stops taking bytes for the send timeout: cancel and close")
    func sendTimeout() throws {
        var settings = ServerSettings()
        settings.sendTimeout = .seconds(60)
        let later = LaterResponder()
        let h = try Harness(settings: settings, responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        later.writers[0].writeHead(ResponseHead(status: .ok, body: .stream))
        h.channel.isWritable = false
        h.channel.pipeline.fireChannelWritabilityChanged()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(h.isOpen)
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(later.handlers.first?.cancelled == .timeout)
        #expect(!h.isOpen)
        #expect(h.handler.machine.endReason == .timeout)
    }

    @Test("Writability coming back stops the send timeout")
    func sendTimeoutCancelled() throws {
        let later = LaterResponder()
        let h = try Harness(responder: later)
        try h.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        h.channel.isWritable = false
        h.channel.pipeline.fireChannelWritabilityChanged()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        h.channel.isWritable = true
        h.channel.pipeline.fireChannelWritabilityChanged()
        h.channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(h.isOpen)
        #expect(later.handlers.first?.cancelled == nil)
    }
}
