import NIOCore
import TacetHTTP
import TacetTestSupport

/// A slow backend: answers `body` with 200 `delay` after the request head arrived, the delay
/// scheduled on the connection's event loop. The delay is the behaviour under test (a route that
/// is still working when the client half-closes), not a way to synchronise the test.
/// Records "start /path", "respond", "halfclose" and "cancel:<reason>" like `GatedResponder`.
final class DelayedResponder: Responder, Sendable {
    let delay: TimeAmount
    let body: String
    let recorder = Recorder()

    init(delay: TimeAmount = .milliseconds(300), body: String = "slow answer\n") {
        self.delay = delay
        self.body = body
    }

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        recorder.add("start \(request.target)")
        let handler = DelayedHandler(writer: writer, body: body, recorder: recorder)
        let bound = NIOLoopBound(handler, eventLoop: writer.eventLoop)
        handler.scheduled = writer.eventLoop.scheduleTask(in: delay) { bound.value.answer() }
        return handler
    }
}

final class DelayedHandler: RequestHandler {
    let writer: ResponseWriter
    let body: String
    let recorder: Recorder
    var scheduled: Scheduled<Void>?
    var cancelled = false

    init(writer: ResponseWriter, body: String, recorder: Recorder) {
        self.writer = writer
        self.body = body
        self.recorder = recorder
    }

    func answer() {
        guard !cancelled else { return }
        recorder.add("respond")
        let buffer = ByteBuffer(string: body)
        writer.respond(ResponseHead(status: .ok, body: .length(buffer.readableBytes)), body: buffer)
    }

    func clientHalfClosed() { recorder.add("halfclose") }

    func cancel(_ reason: ConnectionEndReason) {
        cancelled = true
        scheduled?.cancel()
        recorder.add("cancel:\(reason.rawValue)")
    }
}
