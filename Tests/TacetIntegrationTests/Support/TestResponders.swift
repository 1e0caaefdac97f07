import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import TacetHTTP
import TacetTestSupport

/// What a test responder saw, in order: "start /path", "body N", "end", "halfclose",
/// "cancel:<reason>", "respond".
final class Recorder: Sendable {
    private let events = NIOLockedValueBox<[String]>([])
    func add(_ event: String) { events.withLockedValue { $0.append(event) } }
    var all: [String] { events.withLockedValue { $0 } }
    func contains(_ event: String) -> Bool { all.contains(event) }
    func count(_ event: String) -> Int { all.filter { $0 == event }.count }
}

/// Answers only when the test calls `release()`: lets a test put the client's FIN, close or RST
/// exactly between the request and the response, with no timing involved.
final class GatedResponder: Responder, Sendable {
    let recorder = Recorder()
    private let waiting = NIOLockedValueBox<[(any EventLoop, @Sendable () -> Void)]>([])
    private let released = NIOLockedValueBox(false)

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        recorder.add("start \(request.target)")
        let handler = GatedHandler(writer: writer, recorder: recorder, target: request.target)
        let bound = NIOLoopBound(handler, eventLoop: writer.eventLoop)
        let answer: @Sendable () -> Void = { bound.value.answer() }
        if released.withLockedValue({ $0 }) {
            answer()
        } else {
            waiting.withLockedValue { $0.append((writer.eventLoop, answer)) }
        }
        return handler
    }

    /// Answers every request waiting, and every later one at once.
    func release() {
        let now = waiting.withLockedValue { w in
            defer { w.removeAll() }
            return w
        }
        released.withLockedValue { $0 = true }
        for (loop, answer) in now { loop.execute(answer) }
    }
}

final class GatedHandler: RequestHandler {
    let writer: ResponseWriter
    let recorder: Recorder
    let target: String
    var bodyBytes = 0
    var cancelled = false

    init(writer: ResponseWriter, recorder: Recorder, target: String) {
        self.writer = writer
        self.recorder = recorder
        self.target = target
    }

    func answer() {
        guard !cancelled else { return }
        recorder.add("respond")
        let body = ByteBuffer(string: "answer to \(target) after \(bodyBytes) body bytes\n")
        writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
    }

    func requestBodyPart(_ buffer: ByteBuffer) { bodyBytes += buffer.readableBytes }
    func requestEnded() { recorder.add("end") }
    func clientHalfClosed() { recorder.add("halfclose") }
    func cancel(_ reason: ConnectionEndReason) {
        cancelled = true
        recorder.add("cancel:\(reason.rawValue)")
    }
}

/// Reads the whole body, then answers "got N bytes".
struct BodyCountResponder: Responder {
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        BodyCounter(writer: writer)
    }
}

final class BodyCounter: RequestHandler {
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

/// Streams `chunks` body pieces of `size` bytes with unknown length (chunked, or close-delimited for 1.0).
struct StreamingResponder: Responder {
    var chunks = 3
    var size = 10
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        writer.writeHead(ResponseHead(status: .ok, body: .stream))
        for i in 0..<chunks {
            writer.writeBody(ByteBuffer(repeating: UInt8(ascii: "a") + UInt8(i % 26), count: size))
        }
        writer.end()
        return nil
    }
}
