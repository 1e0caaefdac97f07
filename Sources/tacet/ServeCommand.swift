import ArgumentParser
import Logging
import NIOCore
import ServiceLifecycle
import TacetConfig
import TacetServer
import TacetTLS
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve HTTP: static files from a directory, or whatever a config file says.",
        discussion: """
            With no config file, serves the current directory (or --root) on 127.0.0.1:8080, like \
            `python3 -m http.server`. SIGHUP re-reads the config file (new connections get the new \
            configuration; a bad file is refused and the old one keeps serving). SIGUSR1 reopens the \
            access log file. SIGINT or SIGTERM stops accepting, lets in-flight responses finish \
            within shutdown_timeout, and exits 0.
            """)

    @Option(name: [.customShort("c"), .long], help: "YAML config file.")
    var config: String?

    @Option(help: "Directory to serve when there is no config file.")
    var root: String = "."

    @Option(help: "Address to listen on, HOST:PORT or [IPv6]:PORT; repeatable. Overrides the config's listen.")
    var listen: [String] = []

    @Option(help: "PEM certificate chain (leaf first): every listen address serves HTTPS with it and --tls-key.")
    var tlsCert: String?

    @Option(help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Flag(help: """
        HTTPS with a certificate made in memory for localhost, 127.0.0.1 and ::1 (self-signed, 30 \
        days; its SHA-256 fingerprint is printed): on 127.0.0.1:8443 unless --listen or the \
        config says where.
        """)
    var https = false

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int = System.coreCount

    @Option(help: """
        Event-loop thread scheduling: normal, or batch (Linux SCHED_BATCH: a woken loop does not \
        preempt the task on its core; more throughput, longer tail latency where the loops share \
        cores with other busy processes).
        """)
    var scheduling: LoopScheduling = .normal

    @Option(help: "Error log level: trace, debug, info, notice, warning, error, critical. Overrides the config's log_level (default notice: info adds a line per connection).")
    var logLevel: String?

    func run() async throws {
        var commandLineLevel: Logger.Level?
        if let logLevel {
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("unknown log level '\(logLevel)'")
            }
            commandLineLevel = level
        }
        let level = ErrorLogLevel(commandLine: commandLineLevel)
        LoggingSystem.bootstrap { label in ErrorLogHandler(label: label, level: level) }
        var configuration: TacetConfiguration
        let addresses: [ListenAddress]
        var tlsOverride: TLSListenerConfig?
        switch (tlsCert, tlsKey) {
        case (_?, _?) where https:
            throw ValidationError("--https makes its own certificate: leave out --tls-cert and --tls-key")
        case (nil, nil) where https:
            let made: SelfSignedCertificate
            do {
                made = try SelfSignedCertificate()
            } catch {
                printError("tacet: cannot make a certificate: \(error)")
                throw ExitCode(1)
            }
            tlsOverride = TLSListenerConfig(certificates: [.init(
                inMemory: .init(certificate: made.certificatePEM, key: made.keyPEM), name: "(made in memory)")])
            writeLine("tacet certificate for localhost made in memory, SHA-256 \(made.fingerprint)", to: STDOUT_FILENO)
        case (let cert?, let key?):
            tlsOverride = TLSListenerConfig(certificates: [.init(cert: Paths.absolute(cert), key: Paths.absolute(key))])
        case (nil, nil):
            break
        default:
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        do {
            addresses = try listen.map { try ListenAddress(parsing: $0) }
            if let config {
                configuration = try ConfigLoader.load(path: config)
                if !addresses.isEmpty { configuration.listen = addresses }
            } else {
                let fallback = https ? [ListenAddress(host: "127.0.0.1", port: 8443)] : TacetConfiguration.defaultListen
                configuration = ConfigLoader.defaultConfiguration(root: root, listen: addresses.isEmpty ? fallback : addresses)
            }
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
        if let tlsOverride {
            for i in configuration.listeners.indices {
                configuration.listeners[i].tls = tlsOverride
                configuration.listeners[i].http2 = true  // ALPN offers h2, as on any TLS listener
            }
        }
        level.apply(configuration.logLevel)

        // Before anything is announced: a SIGHUP or SIGUSR1 sent as soon as we say "listening"
        // must be handled, not end the process (the ServiceGroup traps SIGTERM and SIGINT
        // before it starts the services, so those are covered too).
        let controlSignals = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        let server: TacetServer
        do {
            server = try TacetServer(configuration: configuration, threads: threads, scheduling: scheduling)
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
        let secure = configuration.listeners.map { $0.tls != nil }
        let service = TacetService(server: server) { http, streams in
            for (i, address) in http.enumerated() {
                let scheme = i < secure.count && secure[i] ? "https" : "http"
                writeLine("tacet listening on \(scheme)://\(Self.describe(address))", to: STDOUT_FILENO)
            }
            for address in streams {
                writeLine("tacet listening on tcp://\(Self.describe(address))", to: STDOUT_FILENO)
            }
            if let address = server.adminAddress {
                writeLine("tacet admin on http://\(Self.describe(address))/metrics", to: STDOUT_FILENO)
            }
        }
        let control = ControlSignalService(signals: controlSignals, server: server, configPath: config,
                                           listenOverride: addresses, tlsOverride: tlsOverride, level: level)
        // Graceful shutdown goes in reverse order: signal handling stops first (a reload under
        // way finishes), then the server drains. Either service ending ends the group.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: control, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: server.logger))
        do {
            try await group.run()
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}

func printError(_ message: String) {
    writeLine(message, to: STDERR_FILENO)
}

/// Unbuffered, so the line is out before a supervisor or a test reads it.
func writeLine(_ message: String, to fd: Int32) {
    let bytes = Array((message + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, bytes.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}

extension LoopScheduling: ExpressibleByArgument {}
