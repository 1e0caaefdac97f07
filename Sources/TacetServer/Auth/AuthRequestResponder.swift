import Logging
import NIOCore
import NIOHTTP1
import TacetConfig
import TacetHTTP
import TacetProxy

/// nginx's `auth_request` (Traefik's forwardAuth, what oauth2-proxy and Authelia document): before
/// the route's action, a GET to the authentication service through the proxy's own machinery
/// (its pooled connections, timeouts, strict parsing), carrying the client's Cookie and
/// Authorization, X-Original-URI, X-Original-Method and X-Forwarded-*, never the body. A 2xx lets
/// the request go on with `copy_headers` taken from the answer (the client's own fields of those
/// names removed first, so they cannot be forged); a 401 or 403 goes to the client (or the 401
/// becomes a redirect to a login page); a service that does not answer in time is 504, anything
/// else (another status, a service that cannot be reached) 500, as nginx answers. The request waits meanwhile (`DeferredRequest`): its body, and a half-close, reach
/// the action once it goes on; a client that leaves cancels the subrequest.
struct AuthRequestResponder: Responder {
    let config: AuthRequestConfig
    let service: ProxyResponder
    let next: any Responder

    /// The client fields the service sees; the rest of the request is described, not passed.
    static let passed = ["cookie", "authorization", "user-agent", "accept-language", "x-request-id"]

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        var forwarded = request
        for name in config.copyHeaders { forwarded.headers.remove(name: name) }
        let deferred = DeferredRequest(writer: writer)
        var subrequestHandler: (any RequestHandler)?
        let sink = SubrequestSink(eventLoop: writer.eventLoop, allocator: writer.allocator, logger: writer.logger,
                                  clientAddress: writer.clientAddress) { [config, next] outcome in
            subrequestHandler = nil
            guard !deferred.isCancelled else { return }
            Self.decide(outcome, config: config, request: request, forwarded: forwarded, writer: writer, deferred: deferred, next: next)
        }
        let handler = service.respond(to: subrequest(for: request), writer: ResponseWriter(sink: sink, id: 1))
        handler?.requestEnded()
        subrequestHandler = handler
        return CancellingHandler(deferred: deferred) { reason in
            subrequestHandler?.cancel(reason)
            subrequestHandler = nil
        }
    }

    private func subrequest(for request: Request) -> Request {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: request.headers.first(name: "host") ?? request.host ?? "")
        for (name, value) in request.headers where Self.passed.contains(name.lowercased()) {
            headers.add(name: name, value: value)
        }
        headers.add(name: "X-Original-URI", value: request.target)
        headers.add(name: "X-Original-Method", value: request.method.rawValue)
        headers.add(name: "X-Forwarded-Uri", value: request.target)
        headers.add(name: "X-Forwarded-Method", value: request.method.rawValue)
        var subrequest = Request(method: .GET, target: config.target, version: .http1_1, headers: headers,
                                 keepAlive: true, framing: .none, expectsContinue: false, host: request.host)
        subrequest.isSecure = request.isSecure
        return subrequest
    }

    private static func decide(_ outcome: SubrequestSink.Outcome, config: AuthRequestConfig, request: Request, forwarded: Request,
                               writer: ResponseWriter, deferred: DeferredRequest, next: any Responder) {
        guard case .answered(let status, let fields, let body, let ownRefusal) = outcome else {
            writer.logger.error("auth request failed: the service's answer was cut short", metadata: ["target": "\(config.target)"])
            return deferred.refuse { ErrorResponse.write(writer, status: 500, reason: "authentication failed") }
        }
        switch status {
        case 200..<300 where !ownRefusal:
            var allowed = forwarded
            for name in config.copyHeaders {
                for value in fields[name] { allowed.headers.add(name: name, value: value) }
            }
            deferred.proceed { next.respond(to: allowed, writer: writer) }
        case 401 where !ownRefusal && config.redirectOn401 != nil:
            let location = (config.redirectOn401 ?? []).expand(for: request, clientAddress: writer.clientAddress)
            deferred.refuse {
                let text = ByteBuffer(string: "found\n")
                writer.respond(ResponseHead(status: .found, headers: HTTPHeaders([("Location", location), ("Content-Type", "text/plain; charset=utf-8")]),
                                            body: .length(text.readableBytes)), body: text)
            }
        case 401 where !ownRefusal, 403 where !ownRefusal:
            var headers = HTTPHeaders()
            for name in ["www-authenticate", "content-type", "set-cookie"] {
                for value in fields[name] { headers.add(name: name, value: value) }
            }
            if headers["content-type"].isEmpty { headers.add(name: "Content-Type", value: ErrorResponse.contentType) }
            var head = ResponseHead(status: HTTPResponseStatus(statusCode: status), headers: headers, body: .length(body.readableBytes))
            head.isRefusal = true  // error pages may replace it, as nginx's error_page 401
            deferred.refuse { writer.respond(head, body: body) }
        default:
            let timedOut = ownRefusal && status == 504
            let why = !ownRefusal ? "" : timedOut ? " (the service did not answer in time)" : " (the service could not be reached)"
            writer.logger.error("auth request answered \(status)\(why): refused",
                                metadata: ["target": "\(config.target)"])
            deferred.refuse {
                ErrorResponse.write(writer, status: timedOut ? 504 : 500, reason: timedOut ? "authentication timed out" : "authentication failed")
            }
        }
    }
}

/// The deferred request, and a client gone first cancels the subrequest too.
private final class CancellingHandler: RequestHandler {
    let deferred: DeferredRequest
    let onCancel: (ConnectionEndReason) -> Void

    init(deferred: DeferredRequest, onCancel: @escaping (ConnectionEndReason) -> Void) {
        self.deferred = deferred
        self.onCancel = onCancel
    }

    func requestBodyPart(_ buffer: ByteBuffer) { deferred.requestBodyPart(buffer) }
    func requestEnded() { deferred.requestEnded() }
    func clientHalfClosed() { deferred.clientHalfClosed() }
    func writabilityChanged(_ isWritable: Bool) { deferred.writabilityChanged(isWritable) }
    func cancel(_ reason: ConnectionEndReason) {
        onCancel(reason)
        deferred.cancel(reason)
    }
}
