import Logging
import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP

/// A route's header rules around its action: the request's fields set and removed before the
/// action sees it (so an upstream gets them), the response's on the head the action writes.
/// Order on a route: allow/deny, redirect, compression, these rules, `strip_prefix`, the action.
struct HeaderRulesResponder: Responder {
    let rules: HeaderRules
    let next: any Responder

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        var edited = request
        if !rules.request.isEmpty {
            for name in rules.request.remove { edited.headers.remove(name: name) }
            for field in rules.request.set {
                edited.headers.replaceOrAdd(name: field.name, value: field.value.expand(for: request, clientAddress: writer.clientAddress))
            }
        }
        guard !rules.response.isEmpty else { return next.respond(to: edited, writer: writer) }
        let values = rules.response.set.map { ($0.name, $0.value.expand(for: request, clientAddress: writer.clientAddress)) }
        let sink = HeaderEditingSink(base: writer, set: values, remove: rules.response.remove)
        return next.respond(to: edited, writer: ResponseWriter(sink: sink, id: 1))
    }
}

/// Passes a route's response through to the real writer, the head's fields edited on the way.
final class HeaderEditingSink: ForwardingSink {
    let set: [(String, String)]
    let remove: [String]

    init(base: ResponseWriter, set: [(String, String)], remove: [String]) {
        self.set = set
        self.remove = remove
        super.init(base: base)
    }

    /// The head with its fields edited; fields that came as bytes (a proxied response) are read
    /// back first, and the bytes dropped, so the edited fields are the ones sent.
    func edited(_ head: ResponseHead) -> ResponseHead {
        var head = head
        var headers = head.fields
        for name in remove { headers.remove(name: name) }
        for (name, value) in set { headers.replaceOrAdd(name: name, value: value) }
        head.headers = headers
        head.encodedFields = nil
        return head
    }

    override func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        super.writeHead(id, edited(head), body: body, end: end, flush: flush)
    }
}
