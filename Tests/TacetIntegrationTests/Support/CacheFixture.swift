import Foundation
import NIOConcurrencyHelpers
import TacetProbe
import TacetTestSupport
import Testing

/// What the cache suites share: a zone directory of their own, the config, and a GET.
enum CacheFixture {
    static func directory() -> String {
        NSTemporaryDirectory() + "tacet-cache-\(UUID().uuidString)"
    }

    static func yaml(origin: Int, zone: String, extra: String = "", zoneExtra: String = "") -> String {
        """
        listen: [{ address: "127.0.0.1:0", http2: true }]
        access_log: off
        cache:
          zones:
            main: { path: "\(zone)", max_size: 64m, memory: 8m\(zoneExtra) }
        upstreams:
          app: { servers: ["127.0.0.1:\(origin)"] }
        routes:
          - match: { path: / }
            proxy: { upstream: app }
            cache: { zone: main\(extra.isEmpty ? "" : ", " + extra) }
        """
    }

    static func request(_ path: String, method: String = "GET", host: String = "app.example.com", extra: String = "") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n\(extra)Connection: close\r\n\r\n"
    }

    static func get(_ port: Int, _ path: String, method: String = "GET", host: String = "app.example.com",
                    extra: String = "") async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send(request(path, method: method, host: host, extra: extra))
        return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
    }
}

/// A flag an origin's script reads and a test sets.
final class NIOLockedBool: Sendable {
    private let box = NIOLockedValueBox(false)
    var value: Bool {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}
