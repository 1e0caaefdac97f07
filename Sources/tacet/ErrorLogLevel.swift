import Logging
import NIOConcurrencyHelpers
import TacetConfig

/// The error log's level for the whole process, changeable while it runs: a reload may change
/// `log_level`, and swift-log fixes a handler's level when a `Logger` is made. Every logger
/// made by `ErrorLogHandler` reads this one value (a lock per check: an uncontended lock is a
/// few nanoseconds, and lines are per connection at most, never per byte).
final class ErrorLogLevel: Sendable {
    private let level = NIOLockedValueBox(ErrorLogLevel.default)
    /// Quiet by default, as nginx's `error_log` is at `error`: a connection's end, a failed
    /// handshake or a client refused for breaking a limit are `info`, so they show only when
    /// asked for; starting, reloading, shutting down and every fault are `notice` and above.
    static let `default` = Logger.Level.notice
    /// From `--log-level`: when set, the config's `log_level` is ignored, on start and reload.
    let commandLine: Logger.Level?

    init(commandLine: Logger.Level?) {
        self.commandLine = commandLine
        if let commandLine { level.withLockedValue { $0 = commandLine } }
    }

    var current: Logger.Level { level.withLockedValue { $0 } }

    /// The level a configuration asks for, unless the command line said otherwise.
    func apply(_ configured: LogLevel?) {
        let chosen = commandLine ?? configured.flatMap { Logger.Level(rawValue: $0.rawValue) } ?? Self.default
        level.withLockedValue { $0 = chosen }
    }
}

/// Writes to standard error like swift-log's `StreamLogHandler`, at the process-wide
/// `ErrorLogLevel` unless code set a level on its own logger (tests quieten theirs that way).
struct ErrorLogHandler: LogHandler {
    private var inner: StreamLogHandler
    private let shared: ErrorLogLevel
    private var ownLevel: Logger.Level?

    init(label: String, level: ErrorLogLevel) {
        inner = StreamLogHandler.standardError(label: label)
        inner.logLevel = .trace
        shared = level
    }

    var logLevel: Logger.Level {
        get { ownLevel ?? shared.current }
        set { ownLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        inner.log(event: event)
    }
}
