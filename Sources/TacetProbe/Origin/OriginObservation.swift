/// What the probe's own origin saw of one scenario (requests and TCP connections carry the
/// scenario's tag): the half of the story only the server behind a proxy can tell. Times are
/// CLOCK_MONOTONIC milliseconds, so they compare with the probe's own on the same machine.
public struct OriginObservation: Sendable, Codable, Equatable {
    public var requests: [OriginRequestRecord] = []
    public var tcp: [OriginTCPRecord] = []

    public init(requests: [OriginRequestRecord] = [], tcp: [OriginTCPRecord] = []) {
        self.requests = requests
        self.tcp = tcp
    }

    public var forwarded: Bool { !requests.isEmpty || !tcp.isEmpty }
}

/// One HTTP request with a tag, as the origin handled it.
public struct OriginRequestRecord: Sendable, Codable, Equatable {
    public var method: String
    public var path: String
    /// Request body bytes read (not counted for `/reject`, which does not read them).
    public var bodyBytes: Int
    /// When the request head was whole.
    public var receivedMs: Double
    /// When its answer was due (after the path's delay).
    public var dueMs: Double
    /// What the origin answered; nil while it has not (or when the connection went first).
    public var response: OriginResponse?
    /// How the proxy ended the upstream connection, and when: a FIN (`fin`) or RST (`rst`) while
    /// this request was in progress, or after its answer.
    public var upstreamEnd: StreamEnd?
    public var upstreamEndMs: Double?

    public init(method: String, path: String, bodyBytes: Int = 0, receivedMs: Double, dueMs: Double) {
        self.method = method
        self.path = path
        self.bodyBytes = bodyBytes
        self.receivedMs = receivedMs
        self.dueMs = dueMs
    }

    /// The proxy closed (or reset) its upstream connection before the answer was written: it
    /// spared its backend. Nil while neither has happened.
    public var spared: Bool? {
        if let end = upstreamEndMs, response == nil || end < (response?.sentMs ?? .infinity) { return true }
        return response == nil ? nil : false
    }

    /// Done: answered, or the connection is over.
    public var isSettled: Bool { response != nil || upstreamEnd != nil }
}

/// An answer the origin wrote.
public struct OriginResponse: Sendable, Codable, Equatable {
    public var status: Int
    public var bodyBytes: Int
    public var bodyDigest: String
    public var sentMs: Double
    /// The write failed (the proxy had reset the connection).
    public var writeFailed: Bool

    public init(status: Int, bodyBytes: Int, bodyDigest: String, sentMs: Double, writeFailed: Bool = false) {
        self.status = status
        self.bodyBytes = bodyBytes
        self.bodyDigest = bodyDigest
        self.sentMs = sentMs
        self.writeFailed = writeFailed
    }
}

/// One TCP connection with a tag on the origin's TCP service, which replies only after the
/// client's EOF (and a delay): a TCP proxy must pass the FIN on and wait for the reply.
public struct OriginTCPRecord: Sendable, Codable, Equatable {
    public var bytesReceived: Int
    /// The EOF (the proxy passed the client's FIN on, or closed) and when.
    public var eofMs: Double?
    /// The reply, written `delay` after the EOF, and its bytes.
    public var replyMs: Double?
    public var reply: [UInt8]?
    /// How the connection ended after the reply (or instead of it): `fin` or `rst`.
    public var end: StreamEnd?
    public var endMs: Double?
    /// The service is done with the connection (ended, or it gave up waiting: then `end` is nil).
    public var done = false

    public init(bytesReceived: Int = 0) {
        self.bytesReceived = bytesReceived
    }

    public var isSettled: Bool { done }
}
