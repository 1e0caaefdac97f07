/// One connection to the origin's TCP service: it reads until the EOF, waits the delay the first
/// line asks for (`TACET-PROBE <tag> <ms>`), then replies `tacet-origin tcp <tag> <n> bytes` and
/// sends its FIN. A TCP proxy that passes the client's FIN on and waits delivers that reply; one
/// that closes at the client's FIN cannot.
struct OriginTCPSession {
    let socket: OriginSocket
    let recorder: OriginRecorder

    static let maxBytes = 8 << 20

    /// The reply for `tag` after `received` bytes: the probe knows it in advance.
    public static func reply(tag: String, received: Int) -> [UInt8] { Array("tacet-origin tcp \(tag) \(received) bytes\n".utf8) }

    /// `TACET-PROBE <tag> <delay ms>` and a newline: what the probe sends first.
    public static func greeting(tag: String, delayMs: Int) -> String { "TACET-PROBE \(tag) \(delayMs)\n" }

    /// The `TACET-PROBE <tag> <ms>` line: first, or after a PROXY header a proxy put in front
    /// (Tacet's send_proxy_protocol, HAProxy's send-proxy). Nil until it is whole, and for
    /// anything else (then the connection is filed untagged).
    static func greeting(in bytes: [UInt8]) -> (tag: String, delay: Double)? {
        var start = 0
        switch ProxyPreamble.length(bytes) {
        case .needMore: return nil
        case .length(let n): start = n
        case .none: break
        }
        guard let newline = bytes[start...].firstIndex(of: 10) else {
            return bytes.count - start > 512 ? ("", 0) : nil
        }
        let words = String(decoding: bytes[start..<newline], as: UTF8.self).split(separator: " ")
        guard words.count == 3, words[0] == "TACET-PROBE" else { return ("", 0) }
        return (String(words[1].prefix(200)), OriginHTTPSession.delay(String(words[2])))
    }

    func run() {
        var tag: (name: String, delay: Double, index: Int?)?
        let deadline = monotonicMs() + OriginHTTPSession.idleMs
        while socket.end == nil, monotonicMs() < deadline {
            socket.receive(waitingMs: deadline - monotonicMs())
            if tag == nil, let (name, delay) = Self.greeting(in: socket.buffer) {
                tag = (name, delay, recorder.addTCP(OriginTCPRecord(), tag: name))
            }
            if socket.buffer.count > Self.maxBytes { break }
        }
        let (name, delay, index) = tag ?? ("", 0, recorder.addTCP(OriginTCPRecord(), tag: ""))
        let received = socket.buffer.count
        recorder.updateTCP(tag: name, index: index) {
            $0.bytesReceived = received
            if self.socket.end == .fin { $0.eofMs = self.socket.endMs }
        }
        if socket.end == .fin {
            socket.watch(untilMs: (socket.endMs ?? monotonicMs()) + delay)
            if socket.end == .fin {
                let reply = Self.reply(tag: name, received: received)
                let written = socket.write(reply[...])
                recorder.updateTCP(tag: name, index: index) {
                    $0.replyMs = monotonicMs()
                    $0.reply = written ? reply : nil
                }
                socket.finishStaged(seconds: 2)
            }
        }
        let end = socket.end
        recorder.updateTCP(tag: name, index: index) {
            $0.end = end
            $0.endMs = end == nil ? nil : monotonicMs()
            $0.done = true
        }
    }
}
