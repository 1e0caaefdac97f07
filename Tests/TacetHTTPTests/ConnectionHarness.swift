import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import TacetHTTP

/// One `HTTPConnectionHandler` on an `EmbeddedChannel`: bytes in, response bytes out, FIN, time.
/// Use on one thread (the test's): EmbeddedChannel is not thread-safe.
final class Harness {
    let channel = EmbeddedChannel()
    let handler: HTTPConnectionHandler

    init(settings: ServerSettings = ServerSettings(),
         responder: any Responder = FixedResponder(status: .ok, body: "hello\n")) throws {
        handler = HTTPConnectionHandler(settings: settings, responder: responder, accessLog: nil,
                                        logger: Logger(label: "t"), eventLoop: channel.embeddedEventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    deinit {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }

    func send(_ bytes: String) throws {
        try channel.writeInbound(ByteBuffer(string: bytes))
    }

    /// The client's FIN (`shutdown(SHUT_WR)`).
    func fin() {
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        channel.embeddedEventLoop.run()
    }

    /// Runs what the loop has queued: a response ended outside the connection's own read starts
    /// the next pipelined request in a task of its own.
    func run() {
        channel.embeddedEventLoop.run()
    }

    /// Everything written to the client since the last call (the loop run first), as text.
    func output() throws -> String {
        run()
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else { continue }
            text += String(buffer: buffer)
        }
        return text
    }

    var isOpen: Bool { channel.isActive }
}

/// A response as the client reads it.
struct ParsedResponse {
    var statusLine: String
    var headers: [(String, String)]
    var body: String

    var status: Int { Int(statusLine.split(separator: " ")[1]) ?? 0 }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func count(_ name: String) -> Int {
        headers.filter { $0.0.lowercased() == name.lowercased() }.count
    }
}

/// Splits a byte stream of responses. `bodyless`: which responses (by index) answer HEAD.
/// A response without Content-Length or chunked framing takes the rest of the stream.
func parseResponses(_ text: String, bodyless: Set<Int> = []) -> [ParsedResponse] {
    let bytes = Array(text.utf8)
    var i = 0
    func line() -> String? {
        var j = i
        while j + 1 < bytes.count, !(bytes[j] == 13 && bytes[j + 1] == 10) { j += 1 }
        guard j + 1 < bytes.count else { return nil }
        defer { i = j + 2 }
        return String(decoding: bytes[i..<j], as: UTF8.self)
    }
    func take(_ n: Int) -> String {
        let end = min(bytes.count, i + n)
        defer { i = end }
        return String(decoding: bytes[i..<end], as: UTF8.self)
    }
    var out: [ParsedResponse] = []
    while i < bytes.count, let statusLine = line() {
        var response = ParsedResponse(statusLine: statusLine, headers: [], body: "")
        while let field = line(), !field.isEmpty {
            guard let colon = field.firstIndex(of: ":") else { continue }
            let value = field[field.index(after: colon)...].drop { $0 == " " }
            response.headers.append((String(field[..<colon]), String(value)))
        }
        if bodyless.contains(out.count) || (100..<200).contains(response.status)
            || response.status == 204 || response.status == 304 {
            // no body
        } else if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            response.body = take(length)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while let sizeLine = line(), let size = Int(sizeLine, radix: 16) {
                if size == 0 {
                    while let trailer = line(), !trailer.isEmpty {}
                    break
                }
                response.body += take(size)
                _ = take(2)
            }
        } else {
            response.body = take(bytes.count - i)
        }
        out.append(response)
    }
    return out
}

/// A responder that keeps every writer so a test can answer later, and records what the route hears.
final class LaterResponder: Responder, @unchecked Sendable {
    final class Handler: RequestHandler {
        var body = ""
        var ended = false
        var halfClosed = false
        var cancelled: ConnectionEndReason?
        func requestBodyPart(_ buffer: ByteBuffer) { body += String(buffer: buffer) }
        func requestEnded() { ended = true }
        func cancel(_ reason: ConnectionEndReason) { cancelled = reason }
        func clientHalfClosed() { halfClosed = true }
    }

    var writers: [ResponseWriter] = []
    var requests: [Request] = []
    var handlers: [Handler] = []

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        requests.append(request)
        writers.append(writer)
        let handler = Handler()
        handlers.append(handler)
        return handler
    }
}

/// Answers each request with its own target as the body, so order can be checked.
struct EchoTargetResponder: Responder {
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let body = ByteBuffer(string: request.target)
        writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
        return nil
    }
}
