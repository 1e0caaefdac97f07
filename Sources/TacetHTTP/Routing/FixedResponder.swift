import NIOCore
import NIOHTTP1

/// A fixed response, like nginx's `return`: the body and the fields are built once and shared
/// by every request. A class: a route calls it through `any Responder`, and a struct of this
/// size would be copied field by field on each call.
public final class FixedResponder: Responder {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: ByteBuffer
    /// The head every response shares, fields already serialised.
    private let head: ResponseHead

    public init(status: HTTPResponseStatus, body: String, contentType: String = "text/plain; charset=utf-8",
                headers: [(String, String)] = [], isRefusal: Bool = false) {
        self.status = status
        var h = HTTPHeaders()
        if !body.isEmpty || !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            h.add(name: "Content-Type", value: contentType)
        }
        for (name, value) in headers { h.replaceOrAdd(name: name, value: value) }
        self.headers = h
        self.body = ByteBuffer(string: body)
        var fields = ByteBuffer()
        ResponseEncoder.writeFields(h, into: &fields)
        var head = ResponseHead(status: status, headers: h, body: .length(self.body.readableBytes), encodedFields: fields)
        // Tacet's own answer (the router's 404, allow/deny's 403), which error pages replace.
        head.isRefusal = isRefusal
        self.head = head
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        writer.respond(head, body: body)
        return nil
    }
}
