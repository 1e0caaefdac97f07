import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import TacetHTTP
@testable import TacetHTTP2

/// One `HTTP2ServerConnection` on an `EmbeddedChannel`: frames in (built with `FrameEncoder`),
/// the frames it wrote read back with `FrameParser` and NIOHPACK's decoder, the client's FIN,
/// and time on the embedded loop. What each exchange ended with is what the observer heard.
final class ServerConnectionHarness {
    let channel = EmbeddedChannel()
    let observer = RecordingObserver()
    private var parser = FrameParser(maxFrameSize: FrameLimits.maxMaxFrameSize)
    private var decoder = HPACKDecoder(allocator: ByteBufferAllocator())
    private var unread = ByteBuffer()
    private var encoder = HPACKEncoder(allocator: ByteBufferAllocator())

    init(responder: any Responder, settings: ServerSettings = ServerSettings()) throws {
        let state = ListenerState(settings: settings, responder: Router(routes: [Router.Route(host: nil, pathPrefix: "/", responder: responder)]),
                                  accessLog: nil, observer: observer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(
            HTTP2ServerConnection(listener: state, logger: Logger(label: "t"), configuration: .init(), channel: channel))
        var opening = ByteBuffer(bytes: ConnectionPreface.bytes)
        FrameEncoder.settings(&opening, [])
        try send(opening)
    }

    deinit { _ = try? channel.finish(acceptAlreadyClosed: true) }

    func send(_ bytes: ByteBuffer) throws {
        try channel.writeInbound(bytes)
        channel.pipeline.fireChannelReadComplete()
        channel.embeddedEventLoop.run()
    }

    func request(_ stream: UInt32, method: String = "GET", path: String = "/", extra: [(String, String)] = [],
                 endStream: Bool = true) throws {
        var block = ByteBuffer()
        try encoder.encode(headers: HPACKHeaders([(":method", method), (":scheme", "https"), (":path", path),
                                                  (":authority", "localhost")] + extra), to: &block)
        var out = ByteBuffer()
        FrameEncoder.headers(&out, stream: stream, block: block, endStream: endStream, maxFrameSize: 16_384)
        try send(out)
    }

    func data(_ stream: UInt32, _ count: Int, endStream: Bool) throws {
        var out = ByteBuffer()
        FrameEncoder.data(&out, stream: stream, payload: ByteBuffer(repeating: 0x61, count: count), endStream: endStream)
        try send(out)
    }

    /// The client's FIN.
    func fin() {
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
    }

    func advance(by amount: TimeAmount) { channel.embeddedEventLoop.advanceTime(by: amount) }

    /// Every frame written since the last call; header blocks decoded.
    enum Seen: Equatable {
        case headers(UInt32, [String: String], endStream: Bool)
        case data(UInt32, String, endStream: Bool)
        case rst(UInt32, H2ErrorCode)
        case goAway(UInt32, H2ErrorCode)
        case other
    }

    /// How many writes the last `frames()` read.
    private(set) var writes = 0

    func frames() throws -> [Seen] {
        writes = 0
        while let part = try channel.readOutbound(as: ByteBuffer.self) {
            writes += 1
            var part = part
            unread.writeBuffer(&part)
        }
        var seen: [Seen] = []
        while let frame = try parser.next(from: &unread) {
            switch frame {
            case .headers(let stream, var fragment, let endStream, _, _):
                let fields = try decoder.decodeHeaders(from: &fragment)
                seen.append(.headers(stream, Dictionary(fields.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                                     endStream: endStream))
            case .data(let stream, let payload, let endStream, _):
                seen.append(.data(stream, String(buffer: payload), endStream: endStream))
            case .rstStream(let stream, let code): seen.append(.rst(stream, code))
            case .goAway(let last, let code, _): seen.append(.goAway(last, code))
            default: seen.append(.other)
            }
        }
        return seen
    }
}

/// What the connection reported of each exchange and of its end.
final class RecordingObserver: HTTPObserver, Sendable {
    private let events = NIOLockedValueBox<[String]>([])
    var all: [String] { events.withLockedValue { $0 } }
    func connectionOpened() {}
    func connectionClosed(reason: ConnectionEndReason) { events.withLockedValue { $0.append("closed \(reason.rawValue)") } }
    func bytesTransferred(in: Int, out: Int) {}
    func requestFinished(route: String, status: Int, durationNanoseconds: Int64, end: String) {
        events.withLockedValue { $0.append("\(status) \(end)") }
    }
    func probeSent(route: String) {}
    func probeAnsweredByReset(route: String) {}
}

/// Counts the body, answers "got N bytes" once it has all come.
struct CountingResponder: Responder {
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? { Counter(writer: writer) }

    final class Counter: RequestHandler {
        let writer: ResponseWriter
        var count = 0
        init(writer: ResponseWriter) { self.writer = writer }
        func requestBodyPart(_ buffer: ByteBuffer) { count += buffer.readableBytes }
        func requestEnded() {
            let body = ByteBuffer(string: "got \(count) bytes\n")
            writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
        }
        func cancel(_ reason: ConnectionEndReason) {}
    }
}
