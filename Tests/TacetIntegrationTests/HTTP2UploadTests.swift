import NIOCore
import NIOHTTP2
import TacetHTTP
import TacetHTTP2
import TacetTestSupport
import Testing

/// Uploads over HTTP/2 to a route that pauses the body (as the proxy does whenever its
/// upstream is full): every byte must reach the route, and the window must keep reopening.
@Suite("HTTP/2: uploads to a route that pauses")
struct HTTP2UploadTests {
    @Test("A route that pauses on every part and resumes a moment later gets the whole 1 MiB body")
    func stutteringRoute() async throws {
        let live = try await HTTP2Tests.plainServer(StutteringCounterResponder())
        try await whileRunning(live) {
            let client = try await HTTP2TestClient.connect(port: live.port)
            let total = 1 << 20
            try await client.request(1, "/upload", method: "POST", extra: [("content-length", String(total))], endStream: false)
            client.writeBody(1, total: total, frameSize: 16_384)
            let response = await client.waitForEnd(1)
            #expect(response.status == 200)
            #expect(response.body == "got \(total) bytes\n")
            await client.close()
        }
    }
}

/// Counts the body like `BodyCounter`, but pauses the body on every part it gets and resumes on
/// the next turn of the event loop: a resume hands it held parts, and it pauses again inside.
struct StutteringCounterResponder: Responder {
    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        StutteringCounter(writer: writer)
    }
}

final class StutteringCounter: RequestHandler {
    let writer: ResponseWriter
    var count = 0
    init(writer: ResponseWriter) { self.writer = writer }
    func requestBodyPart(_ buffer: ByteBuffer) {
        count += buffer.readableBytes
        writer.pauseRequestBody(true)
        let writer = self.writer
        writer.eventLoop.assumeIsolated().execute { writer.pauseRequestBody(false) }
    }
    func requestEnded() {
        let body = ByteBuffer(string: "got \(count) bytes\n")
        writer.respond(ResponseHead(status: .ok, body: .length(body.readableBytes)), body: body)
    }
    func cancel(_ reason: ConnectionEndReason) {}
}
