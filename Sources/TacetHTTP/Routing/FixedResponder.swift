import NIOCore
import NIOHTTP1

/// A fixed response, like nginx's `return`: the body is built once and shared by every request.
public struct FixedResponder: Responder {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: ByteBuffer

    public init(status: HTTPResponseStatus, body: String, contentType: String = "text/plain; charset=utf-8",
                headers: [(String, String)] = []) {
        self.status = status
        var h = HTTPHeaders()
        if !body.isEmpty || !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            h.add(name: "Content-Type", value: contentType)
        }
        for (name, value) in headers { h.replaceOrAdd(name: name, value: value) }
        self.headers = h
        self.body = ByteBuffer(string: body)
    }

    public func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        writer.respond(ResponseHead(status: status, headers: headers, body: .length(body.readableBytes)), body: body)
        return nil
    }
}
