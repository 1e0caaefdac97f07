import NIOCore
import NIOHTTP1
import TacetHTTP

/// A route's compression around its action (`compression:`): negotiates from the request's
/// Accept-Encoding, hands the action a writer that compresses (`CompressingSink`), and takes the
/// negotiated coding's suffix off If-None-Match so the action compares validators it knows.
public struct CompressionResponder: Responder {
    let settings: CompressionSettings
    /// `settings.available`, computed once.
    let available: [ContentCoding]
    let next: any Responder

    public init(settings: CompressionSettings, next: any Responder) {
        self.settings = settings
        self.available = settings.available
        self.next = next
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let accept = AcceptEncoding(headers: request.headers)
        let coding = accept?.choose(from: available)
        var forwarded = request
        var stripped: Set<String> = []
        if let coding, let value = request.headers.first(name: "if-none-match"),
           let rewritten = VariantFields.stripSuffix(value, coding) {
            forwarded.headers.replaceOrAdd(name: "If-None-Match", value: rewritten.value)
            stripped = rewritten.stripped
        }
        let sink = CompressingSink(base: writer, coding: coding, accept: accept,
                                   hasRange: request.headers.contains(name: "range"), isHEAD: request.method == .HEAD,
                                   settings: settings, strippedTags: stripped)
        let inner = next.respond(to: forwarded, writer: ResponseWriter(sink: sink, id: 1))
        guard inner != nil || sink.isBusy else { return nil }
        return CompressionHandler(sink: sink, inner: inner)
    }
}

/// Passes the connection's calls on to the action's handler, and tells the sink what it needs:
/// writability (a file being compressed waits for it) and cancellation.
final class CompressionHandler: RequestHandler {
    let sink: CompressingSink
    let inner: (any RequestHandler)?

    init(sink: CompressingSink, inner: (any RequestHandler)?) {
        self.sink = sink
        self.inner = inner
    }

    func requestBodyPart(_ buffer: ByteBuffer) { inner?.requestBodyPart(buffer) }
    func requestEnded() { inner?.requestEnded() }
    func clientHalfClosed() { inner?.clientHalfClosed() }
    func cancel(_ reason: ConnectionEndReason) {
        sink.cancel()
        inner?.cancel(reason)
    }
    func writabilityChanged(_ isWritable: Bool) {
        sink.writabilityChanged(isWritable)
        inner?.writabilityChanged(isWritable)
    }
}
