import NIOCore
import NIOHTTP1

/// The one refusal a client sees, whatever the protocol: the status and a short plain-text
/// reason ("request body too large\n"), as HTTP/1.1, HTTP/2 and the proxy all answer: the
/// 400 / 408 / 413 / 414 / 431 / 501 HTTP/1.1 writes before any route, the same statuses
/// HTTP/2 answers per stream, the 429 of the rate limit, the proxy's 502 / 503 / 504.
public enum ErrorResponse {
    public static let contentType = "text/plain; charset=utf-8"

    public static func head(status: Int, bodyLength: Int, headers extra: HTTPHeaders = [:]) -> ResponseHead {
        var headers = HTTPHeaders([("Content-Type", contentType)])
        headers.add(contentsOf: extra)
        var head = ResponseHead(status: HTTPResponseStatus(statusCode: status), headers: headers, body: .length(bodyLength))
        head.isRefusal = true
        return head
    }

    public static func body(_ reason: String) -> ByteBuffer { ByteBuffer(string: reason + "\n") }

    /// The refusal's Content-Type and body: `pages`' page for the status, else the plain reason.
    public static func content(status: Int, reason: String, pages: ErrorPages = ErrorPages()) -> (contentType: String, body: ByteBuffer) {
        if let page = pages.page(for: status) { return (page.contentType, page.body) }
        return (contentType, body(reason))
    }

    /// Writes the whole refusal through `writer`. `pages`: for refusals made before any route
    /// (a route's own go through its error-pages sink instead).
    public static func write(_ writer: ResponseWriter, status: Int, reason: String, headers: HTTPHeaders = [:],
                             pages: ErrorPages = ErrorPages()) {
        let (type, body) = content(status: status, reason: reason, pages: pages)
        var head = head(status: status, bodyLength: body.readableBytes, headers: headers)
        if type != contentType { head.headers.replaceOrAdd(name: "Content-Type", value: type) }
        writer.respond(head, body: body)
    }
}
