import CoreMetrics
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One certificate a TLS listener presents, for its expiry gauge.
public struct CertificateSource: Sendable, Equatable {
    public var listen: String
    public var file: String
    /// Seconds since 1970.
    public var notValidAfter: Int

    public init(listen: String, file: String, notValidAfter: Int) {
        self.listen = listen
        self.file = file
        self.notValidAfter = notValidAfter
    }
}

/// TLS handshakes by version and outcome (one per connection: a locked table of handles made
/// on first use is cheap enough), and the seconds until each certificate expires, set at scrape
/// time from the certificates the running configuration loaded.
final class TLSMetrics: Sendable {
    private struct Key: Hashable {
        var version: String
        var outcome: String
    }

    private let handles: MetricHandles
    private let handshakes = NIOLockedValueBox<[Key: CoreMetrics.Counter]>([:])
    private let certificates = NIOLockedValueBox<[(source: CertificateSource, gauge: Meter)]>([])

    init(handles: MetricHandles) {
        self.handles = handles
    }

    func handshake(version: String, outcome: String) {
        let key = Key(version: version, outcome: outcome)
        let handles = self.handles
        handshakes.withLockedValue { table in
            if let counter = table[key] { return counter }
            let made = handles.counter(MetricNames.tlsHandshakes, [("version", version), ("outcome", outcome)])
            table[key] = made
            return made
        }.increment()
    }

    /// A new configuration's certificates: their series replace the old ones.
    func configure(_ sources: [CertificateSource]) {
        let handles = self.handles
        certificates.withLockedValue { current in
            for old in current { old.gauge.destroy() }
            current = sources.map { source in
                (source, handles.gauge(MetricNames.tlsCertificateExpiry, [("listen", source.listen), ("certificate", source.file)]))
            }
        }
    }

    func refresh() {
        let now = Int(time(nil))
        certificates.withLockedValue { list in
            for entry in list { entry.gauge.set(Double(entry.source.notValidAfter - now)) }
        }
    }
}
