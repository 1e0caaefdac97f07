import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TacetStream
import TacetProxyProtocol
import TacetTestSupport
import TacetUpstream

/// A `StreamListener` on 127.0.0.1:0 in front of the given servers, with its log lines captured.
final class StreamFixture: Stoppable, @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let listener: StreamListener
    let port: Int
    let logs: LogCapture

    init(servers: [Int], halfCloseTimeout: TimeAmount = .seconds(60), connectTimeout: TimeAmount = .seconds(5),
         threads: Int = 1, sendProxyProtocol: ProxyHeaderEncoder.Version? = nil,
         readProxyProtocol trusted: [String]? = nil, headerTimeout: TimeAmount = .seconds(60)) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        logs = LogCapture()
        let capture = logs
        let logger = Logger(label: "test") { _ in CapturingLogHandler(capture: capture) }
        let upstream = UpstreamGroup(name: "test", servers: servers.map { UpstreamServer(host: "127.0.0.1", port: $0) },
                                     balance: .roundRobin, maxFails: 1, failTimeout: .seconds(10))
        var settings = StreamSettings(host: "127.0.0.1", port: 0, group: upstream, connectTimeout: connectTimeout,
                                      halfCloseTimeout: halfCloseTimeout)
        settings.sendProxyProtocol = sendProxyProtocol
        if let trusted {
            settings.prelude = ProxyProtocolPrelude(trusted: try CIDRList(parsing: trusted), timeout: headerTimeout, logger: logger)
        }
        listener = StreamListener(group: group, settings: settings, logger: logger)
        port = try await listener.start().port ?? 0
    }

    func stop() async {
        await listener.stop()
        try? await group.shutdownGracefully()
    }
}

/// Log records, and the first "stream closed" line as an event a test awaits (not a sleep).
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let records = NIOLockedValueBox<[Record]>([])
    private let closed = OneShot<[String: String]>()

    func append(_ record: Record) {
        records.withLockedValue { $0.append(record) }
        if record.message == "stream closed" { closed.resolve(record.metadata) }
    }

    var all: [Record] { records.withLockedValue { $0 } }

    /// The metadata of the first "stream closed" line, waiting up to 30 s for it.
    func streamClosed() async throws -> [String: String] {
        try await closed.value(timeout: 30, failure: "no 'stream closed' line")
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in event.metadata ?? [:] { flat[key] = "\(value)" }
        capture.append(.init(level: event.level, message: "\(event.message)", metadata: flat))
    }
}
