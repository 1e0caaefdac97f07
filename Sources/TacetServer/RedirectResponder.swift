import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP

/// A route that answers with a redirect: the Location built from the request by the route's
/// template (`{host}`, `{uri}`, `{path}`, `{query}`, `{client_ip}`), and a short body. What
/// is substituted comes from a request the parser accepted, so it carries no CR, LF or space.
struct RedirectResponder: Responder {
    let redirect: RedirectConfig

    init(_ redirect: RedirectConfig) {
        self.redirect = redirect
    }

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let location = redirect.to.expand(for: request, clientAddress: writer.clientAddress)
        let body = ByteBuffer(string: "redirecting to \(location)\n")
        writer.respond(ResponseHead(status: HTTPResponseStatus(statusCode: redirect.status),
                                    headers: HTTPHeaders([("Location", location), ("Content-Type", "text/plain; charset=utf-8")]),
                                    body: .length(body.readableBytes)),
                       body: body)
        return nil
    }
}
