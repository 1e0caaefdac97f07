import NIOCore
import NIOHTTP1
import TacetHTTP

/// A route's `cors:`, outermost on the route: a preflight is answered 204 here (before
/// allow/deny or authentication, which a browser's preflight never carries credentials for);
/// every other response, errors included, gets the policy's fields and `Vary: Origin`.
struct CORSResponder: Responder {
    let policy: CORSPolicy
    let next: any Responder

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        if CORSPolicy.isPreflight(method: request.method, headers: request.headers) {
            writer.respond(ResponseHead(status: .noContent, headers: policy.preflightFields(request.headers), body: .empty), body: nil)
            return nil
        }
        let sink = CORSSink(base: writer, fields: policy.responseFields(request.headers))
        return next.respond(to: request, writer: ResponseWriter(sink: sink, id: 1))
    }
}

/// The head's CORS fields replaced by the policy's, `Origin` merged into its Vary.
final class CORSSink: ForwardingSink {
    let fields: [(String, String)]

    init(base: ResponseWriter, fields: [(String, String)]) {
        self.fields = fields
        super.init(base: base)
    }

    override func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        var edited = head
        var headers = head.fields
        for name in CORSPolicy.replacedFields { headers.remove(name: name) }
        for (name, value) in fields { headers.add(name: name, value: value) }
        let existing = headers["vary"]
        let vary = existing.flatMap { $0.split(separator: ",").map { $0.trimmingOWS().lowercased() } }
        if !vary.contains("*"), !vary.contains("origin") {
            headers.remove(name: "vary")
            headers.add(name: "Vary", value: (existing + ["Origin"]).joined(separator: ", "))
        }
        edited.headers = headers
        edited.encodedFields = nil
        super.writeHead(id, edited, body: body, end: end, flush: flush)
    }
}
