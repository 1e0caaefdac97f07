import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces an error response with its page as the head goes by: Tacet's own refusals
/// (`ResponseHead.isRefusal`: 403, 404, 502, 504, ...) always, anything else (an upstream's 500)
/// only when `intercept` is on (nginx's `proxy_intercept_errors`). The page goes out whole at
/// once; what the route writes after is dropped, its end still ends the response.
final class ErrorPagesSink: ForwardingSink {
    private let pages: ErrorPages
    private let intercept: Bool
    private let isHEAD: Bool
    private var replacing = false

    init(base: ResponseWriter, pages: ErrorPages, intercept: Bool, isHEAD: Bool) {
        self.pages = pages
        self.intercept = intercept
        self.isHEAD = isHEAD
        super.init(base: base)
    }

    /// Fields that say how to retry or authenticate survive; those about the replaced body do not.
    static let bodyFields: Set<String> = ["content-type", "content-length", "content-encoding", "content-range", "etag",
                                          "last-modified", "transfer-encoding", "accept-ranges", "content-disposition"]
    /// What an upstream's intercepted error keeps (nginx keeps these too), with its CORS fields.
    static let interceptKept: Set<String> = ["www-authenticate", "retry-after", "allow", "location", "vary", "cache-control"]

    override func writeHead(_ id: UInt64, _ head: ResponseHead, body: ByteBuffer?, end: Bool, flush: Bool) {
        let status = Int(head.status.code)
        guard head.isRefusal || intercept, let page = pages.page(for: status) else {
            super.writeHead(id, head, body: body, end: end, flush: flush)
            return
        }
        replacing = true
        var headers = HTTPHeaders()
        for field in head.fields {
            let name = field.name.lowercased()
            let kept = head.isRefusal
                ? !Self.bodyFields.contains(name) || (name == "content-range" && status == 416)
                : Self.interceptKept.contains(name) || name.hasPrefix("access-control-")
            if kept {
                headers.add(name: field.name, value: field.value)
            }
        }
        headers.add(name: "Content-Type", value: page.contentType)
        var replaced = ResponseHead(status: head.status, headers: headers, body: .length(page.body.readableBytes), close: head.close)
        replaced.isRefusal = false
        if end {
            base.respond(replaced, body: isHEAD ? nil : page.body)
        } else {
            base.writeHead(replaced, flush: false)
            if !isHEAD { base.writeBody(page.body, flush: flush) }
        }
    }

    override func writeBody(_ id: UInt64, _ buffer: ByteBuffer, flush: Bool) {
        if !replacing { super.writeBody(id, buffer, flush: flush) }
    }

    override func writeFile(_ id: UInt64, descriptor fd: CInt, offset: Int, count: Int) {
        guard replacing else { return super.writeFile(id, descriptor: fd, offset: offset, count: count) }
        close(fd)  // the writer would have owned it
    }

    override func endResponse(_ id: UInt64, trailers: HTTPHeaders) {
        if replacing { base.end() } else { super.endResponse(id, trailers: trailers) }
    }
}

/// A route (or the whole router) whose errors get pages.
public struct ErrorPagesResponder: Responder {
    let pages: ErrorPages
    let intercept: Bool
    let next: any Responder

    public init(pages: ErrorPages, intercept: Bool = false, next: any Responder) {
        self.pages = pages
        self.intercept = intercept
        self.next = next
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        let sink = ErrorPagesSink(base: writer, pages: pages, intercept: intercept, isHEAD: request.method == .HEAD)
        return next.respond(to: request, writer: ResponseWriter(sink: sink, id: 1))
    }
}
