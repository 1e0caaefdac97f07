import Foundation

/// How the probe reads what its origin saw: in process (`LocalOrigin`, the recorder itself) or
/// from a `tacet probe origin` elsewhere on this machine (`RemoteOrigin`, over `/_tacet/seen`).
public protocol OriginView: Sendable {
    /// Waits until `done` holds for the tag's observation, or `timeout` seconds; returns the last seen.
    func wait(tag: String, timeout: Double, until done: @escaping @Sendable (OriginObservation) -> Bool) -> OriginObservation
}

public struct LocalOrigin: OriginView {
    public let recorder: OriginRecorder

    public init(_ origin: ProbeOrigin) { recorder = origin.recorder }

    public func wait(tag: String, timeout: Double, until done: @escaping @Sendable (OriginObservation) -> Bool) -> OriginObservation {
        recorder.wait(tag: tag, timeout: timeout, until: done)
    }
}

/// A `tacet probe origin` reached directly (not through the proxy), asked every 10 ms: the
/// records are on the other process, so there is nothing to block on here. Its times are
/// CLOCK_MONOTONIC too: it must run on this machine.
public struct RemoteOrigin: OriginView {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public func wait(tag: String, timeout: Double, until done: @escaping @Sendable (OriginObservation) -> Bool) -> OriginObservation {
        let deadline = Deadline(seconds: timeout)
        var last = OriginObservation()
        while true {
            if let seen = fetch(tag: tag) { last = seen }
            if done(last) || deadline.isExpired { return last }
            var none = pollfd()
            _ = poll(&none, 0, 10)
        }
    }

    private func fetch(tag: String) -> OriginObservation? {
        guard let client = try? RawClient.connect(host: host, port: port, timeout: 2) else { return nil }
        defer { client.close() }
        client.requestMethods = ["GET"]
        let target = HTTPTarget(host: host, port: port, path: "/_tacet/seen?tag=\(tag)")
        guard (try? client.write(RequestBuilder(target: target, headers: [("Connection", "close")]).request(method: "GET"))) != nil else { return nil }
        let read = client.readResponses(count: 1, timeout: 2)
        let parsed = HTTPResponseParser.parse(read.bytes, requestMethods: ["GET"], endedWithFIN: read.end == .fin)
        guard let response = parsed.responses.first(where: { !$0.isInterim && $0.isComplete }), response.status == 200 else { return nil }
        return try? JSONDecoder().decode(OriginObservation.self, from: Data(response.body))
    }
}
