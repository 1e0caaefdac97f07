import Foundation

/// One HTTP connection to the origin, served on its own thread: requests one after another
/// (keep-alive), each recorded under its `tacet=` tag with what the origin answered and how and
/// when the proxy ended the connection. Paths:
/// - `/fast`: 200 at once; `/slow?ms=N`: 200 after N ms (watching the connection meanwhile);
/// - `/echo?ms=N`: the request body back after N ms; `/large?bytes=N`: N bytes (1 MiB default);
/// - `/reject`: 413 without reading the body, then a staged close;
/// - `/_tacet/seen?tag=T`: what was recorded under T, as JSON (for a probe in another process).
struct OriginHTTPSession {
    let socket: OriginSocket
    let recorder: OriginRecorder
    /// The last request on this connection: an end that comes later belongs to it.
    private var last: (tag: String, index: Int?)?

    init(socket: OriginSocket, recorder: OriginRecorder) {
        self.socket = socket
        self.recorder = recorder
    }

    static let maxDelayMs = 60_000.0
    static let idleMs = 60_000.0

    mutating func run() {
        guard skipProxyHeader() else {
            noteEnd()
            return
        }
        while let (head, body) = nextRequest() {
            guard serve(head, body) else { return }
        }
        noteEnd()
    }

    /// A PROXY header (v1 or v2) a proxy sends before its first request (HAProxy's send-proxy,
    /// Tacet's send_proxy_protocol) is skipped: the origin answers the request behind it.
    private mutating func skipProxyHeader() -> Bool {
        while true {
            switch ProxyPreamble.length(socket.buffer) {
            case .none:
                return true
            case .needMore:
                guard socket.end == nil, socket.receive(waitingMs: Self.idleMs) else { return false }
            case .length(let n):
                socket.buffer.removeFirst(n)
                return true
            }
        }
    }

    /// The next whole request, or nil when the connection ended (or sent garbage: 400 first).
    private mutating func nextRequest() -> (OriginRequestHead, [UInt8])? {
        while true {
            switch OriginRequestParser.parse(socket.buffer) {
            case .needMore:
                guard socket.end == nil, socket.receive(waitingMs: Self.idleMs) else { return nil }
            case .invalid(let why):
                respond(status: 400, body: Array("tacet-origin: \(why)\n".utf8)[...], close: true)
                return nil
            case .head(let head, let length):
                socket.buffer.removeFirst(length)
                if head.path == "/reject" { return (head, []) }
                guard let body = readBody(head) else {
                    respond(status: 400, body: Array("tacet-origin: bad or incomplete body\n".utf8)[...], close: true)
                    return nil
                }
                return (head, body)
            }
        }
    }

    private mutating func readBody(_ head: OriginRequestHead) -> [UInt8]? {
        if head.chunked {
            var decoder = ChunkedBody()
            while true {
                switch decoder.feed(socket.buffer) {
                case .invalid: return nil
                case .done(let consumed):
                    socket.buffer.removeFirst(consumed)
                    return decoder.body
                case .needMore:
                    socket.buffer.removeAll()
                    guard socket.end == nil, socket.receive(waitingMs: Self.idleMs) else { return nil }
                }
            }
        }
        while socket.buffer.count < head.contentLength {
            guard socket.end == nil, socket.receive(waitingMs: Self.idleMs) else { return nil }
        }
        let body = Array(socket.buffer.prefix(head.contentLength))
        socket.buffer.removeFirst(head.contentLength)
        return body
    }

    /// Answers one request; false when the connection is over.
    private mutating func serve(_ head: OriginRequestHead, _ body: [UInt8]) -> Bool {
        if head.path == "/_tacet/seen" {
            let observation = recorder.observation(tag: head.query("tag") ?? "")
            let json = (try? JSONEncoder().encode(observation)).map(Array.init) ?? Array("{}".utf8)
            respond(status: 200, body: json[...], close: head.closeAfter, type: "application/json")
            return !head.closeAfter
        }
        let tag = head.query("tacet") ?? ""
        let delay = Self.delay(head.query("ms"))
        let now = monotonicMs()
        var record = OriginRequestRecord(method: head.method, path: head.path, bodyBytes: body.count,
                                         receivedMs: now, dueMs: now + (["/slow", "/echo"].contains(head.path) ? delay : 0))
        if head.path == "/reject" { record.bodyBytes = 0 }
        let index = recorder.addRequest(record, tag: tag)
        last = (tag, index)
        let (status, answer) = Self.answer(head, body, tag: tag, delay: delay)
        if record.dueMs > now {
            socket.watch(untilMs: record.dueMs)
            noteEnd()
            if socket.end == .rst { return false }
        }
        let close = head.closeAfter || head.path == "/reject" || socket.end != nil
        let written = respond(status: status, body: answer, close: close, headOnly: head.method == "HEAD")
        recorder.updateRequest(tag: tag, index: index) {
            let sent = head.method == "HEAD" ? [][...] : answer
            $0.response = OriginResponse(status: status, bodyBytes: sent.count, bodyDigest: BodyDigest.of(sent),
                                         sentMs: monotonicMs(), writeFailed: !written)
        }
        guard written, !close else {
            if written { socket.finishStaged() }
            noteEnd()
            return false
        }
        return true
    }

    /// A `ms=` value as a delay: finite, 0 to 60 s; anything else is 0.
    static func delay(_ text: String?) -> Double {
        guard let text, let value = Double(text), value.isFinite else { return 0 }
        return max(0, min(maxDelayMs, value))
    }

    /// `/large` bodies come from one pattern, made once: a request costs no copy of it.
    static let largePattern: [UInt8] = (0..<maxLargeBytes).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    static let maxLargeBytes = 8 << 20

    static func answer(_ head: OriginRequestHead, _ body: [UInt8], tag: String, delay: Double) -> (Int, ArraySlice<UInt8>) {
        switch head.path {
        case "/fast": return (200, Array("tacet-origin fast \(tag)\n".utf8)[...])
        case "/slow": return (200, Array("tacet-origin slow \(Int(delay)) ms \(tag)\n".utf8)[...])
        case "/echo": return (200, body[...])
        case "/large":
            let size = min(maxLargeBytes, max(0, Int(head.query("bytes") ?? "") ?? (1 << 20)))
            return (200, largePattern.prefix(size))
        case "/reject": return (413, Array("tacet-origin rejects the body\n".utf8)[...])
        default: return (404, Array("tacet-origin: no such path (fast, slow, echo, large, reject)\n".utf8)[...])
        }
    }

    /// A HEAD answer has the head a GET would get, and no body.
    @discardableResult
    private func respond(status: Int, body: ArraySlice<UInt8>, close: Bool, type: String = "text/plain", headOnly: Bool = false) -> Bool {
        let reason = [200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Content Too Large"][status] ?? "Status"
        let head = "HTTP/1.1 \(status) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n"
        guard socket.write(Array(head.utf8)[...]) else { return false }
        return headOnly || body.isEmpty || socket.write(body)
    }

    /// The proxy's FIN or RST, once, on the last request.
    private func noteEnd() {
        guard let last, let end = socket.end, let at = socket.endMs else { return }
        recorder.updateRequest(tag: last.tag, index: last.index) { record in
            guard record.upstreamEnd == nil else { return }
            record.upstreamEnd = end
            record.upstreamEndMs = at
        }
    }
}
