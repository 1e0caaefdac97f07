import Logging
import ServiceLifecycle
import TacetConfig
import TacetServer
import UnixSignals

/// SIGHUP (reload the config file) and SIGUSR1 (reopen the access log), handled one at a time
/// in arrival order, so two reloads never overlap. Runs beside `TacetService` in the
/// `ServiceGroup`, which stops it first on SIGTERM/SIGINT; a reload under way finishes first.
struct ControlSignalService: Service {
    /// Created before the server announces itself, so a signal sent right after the
    /// announcement is handled, never fatal (SIGHUP's default action ends the process).
    let signals: UnixSignalsSequence
    let server: TacetServer
    /// The config file to re-read; nil when serving a directory without one.
    let configPath: String?
    /// `--listen` addresses, which replace the file's `listen` on every load.
    let listenOverride: [ListenAddress]
    /// `--tls-cert` and `--tls-key`: TLS on every listener, on every load.
    var tlsOverride: TLSListenerConfig? = nil
    let level: ErrorLogLevel

    func run() async {
        for await signal in signals.cancelOnGracefulShutdown() {
            if signal == .sighup {
                await reload()
            } else if signal == .sigusr1 {
                reopenLogs()
            }
        }
    }

    /// Re-reads the file through `ConfigLoader.load`, the validation `tacet check` runs; a file
    /// that does not validate, or a reload that cannot bind or open its log, leaves the old
    /// configuration serving and says why (with file:line:column for a bad file).
    func reload() async {
        let logger = server.logger
        guard let configPath else {
            logger.notice("SIGHUP: serving without a config file, nothing to reload")
            return
        }
        var configuration: TacetConfiguration
        do {
            configuration = try ConfigLoader.load(path: configPath)
        } catch {
            logger.error("reload refused, still serving the previous configuration: \(error)")
            return
        }
        if !listenOverride.isEmpty { configuration.listen = listenOverride }
        if let tlsOverride {
            for i in configuration.listeners.indices { configuration.listeners[i].tls = tlsOverride }
        }
        do {
            let summary = try await server.reload(configuration: configuration)
            level.apply(configuration.logLevel)
            logger.notice("reloaded", metadata: [
                "config": "\(configPath)",
                "bound": "\(summary.bound.map(ServeCommand.describe))",
                "closed": "\(summary.closed.map(ServeCommand.describe))",
            ])
            for change in summary.needsRestart {
                logger.warning("\(change): takes effect on restart", metadata: ["config": "\(configPath)"])
            }
        } catch {
            logger.error("reload failed, still serving the previous configuration: \(configPath): \(error)")
        }
    }

    func reopenLogs() {
        do {
            try server.reopenLogs()
            server.logger.notice("access log reopened")
        } catch {
            server.logger.error("cannot reopen the access log, still writing to the old file: \(error)")
        }
    }
}
