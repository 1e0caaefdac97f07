import NIOCore
import NIOHTTP1
@testable import TacetHTTP

/// A parser event reduced to what tests compare: heads as their decided facts, bodies as text.
enum Ev: Equatable, CustomStringConvertible {
    case head(Head)
    case body(String)
    case end

    struct Head: Equatable {
        var method: String
        var target: String
        var version: String
        var keepAlive: Bool
        var framing: BodyFraming
        var host: String?
        var expectsContinue: Bool
    }

    init(_ event: RequestParser.Event) {
        switch event {
        case .head(let r):
            self = .head(Head(method: r.method.rawValue, target: r.target,
                              version: "\(r.version.major).\(r.version.minor)", keepAlive: r.keepAlive,
                              framing: r.framing, host: r.host, expectsContinue: r.expectsContinue))
        case .body(let b):
            self = .body(String(buffer: b))
        case .end:
            self = .end
        }
    }

    var description: String {
        switch self {
        case .head(let h): return "head(\(h.method) \(h.target) \(h.version) keepAlive=\(h.keepAlive) \(h.framing))"
        case .body(let s): return "body(\(s.debugDescription))"
        case .end: return "end"
        }
    }

    /// Adjacent body pieces joined: how a body is split depends on how bytes arrive.
    static func merged(_ events: [Ev]) -> [Ev] {
        var out: [Ev] = []
        for e in events {
            if case .body(let b) = e, case .body(let a)? = out.last {
                out[out.count - 1] = .body(a + b)
            } else {
                out.append(e)
            }
        }
        return out
    }
}

/// A parser with the buffer a connection would keep: bytes are appended, events drained.
struct Feed {
    var parser: RequestParser
    var buffer = ByteBuffer()

    init(limits: RequestParser.Limits = .init()) {
        parser = RequestParser(limits: limits)
    }

    /// Appends `bytes` and returns every event they complete.
    mutating func feed(_ bytes: String) throws(RequestError) -> [Ev] {
        buffer.writeString(bytes)
        return try drain()
    }

    mutating func feed(_ bytes: [UInt8]) throws(RequestError) -> [Ev] {
        buffer.writeBytes(bytes)
        return try drain()
    }

    mutating func drain() throws(RequestError) -> [Ev] {
        var out: [Ev] = []
        while let event = try parser.next(&buffer) { out.append(Ev(event)) }
        return out
    }

    /// One event, or nil when more bytes are needed.
    mutating func step() throws(RequestError) -> Ev? {
        try parser.next(&buffer).map(Ev.init)
    }
}

/// All events of `input` given in one buffer, merged.
func parseAll(_ input: String, limits: RequestParser.Limits = .init()) throws(RequestError) -> [Ev] {
    var feed = Feed(limits: limits)
    return Ev.merged(try feed.feed(input))
}

/// The error parsing `input` throws, or nil when it parses (possibly needing more bytes).
func parseError(_ input: String, limits: RequestParser.Limits = .init()) -> RequestError? {
    var feed = Feed(limits: limits)
    do {
        _ = try feed.feed(input)
        return nil
    } catch {
        return error
    }
}

/// The error when `input` arrives one byte at a time, or nil.
func parseErrorBytewise(_ input: String, limits: RequestParser.Limits = .init()) -> RequestError? {
    var feed = Feed(limits: limits)
    do {
        for byte in Array(input.utf8) { _ = try feed.feed([byte]) }
        return nil
    } catch {
        return error
    }
}

func head(_ method: String = "GET", _ target: String = "/", version: String = "1.1", keepAlive: Bool = true,
          framing: BodyFraming = .none, host: String? = "example.com", expectsContinue: Bool = false) -> Ev {
    .head(Ev.Head(method: method, target: target, version: version, keepAlive: keepAlive, framing: framing,
                  host: host, expectsContinue: expectsContinue))
}

/// A minimal HTTP/1.1 request head with Host and the given extra header lines.
func request(_ method: String = "GET", _ target: String = "/", _ headers: String...) -> String {
    "\(method) \(target) HTTP/1.1\r\nHost: example.com\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
}
