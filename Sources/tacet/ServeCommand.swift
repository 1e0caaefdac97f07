import ArgumentParser
import Logging
import NIOCore
import TacetConfig
import TacetServer

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
            With no config file, serves the current directory (or --root) on 127.0.0.1:8080, like
            `python3 -m http.server`. SIGINT or SIGTERM stops accepting, lets in-flight responses
            finish within shutdown_timeout, and exits 0.
            """)

    @Option(name: [.customShort("c"), .long], help: "YAML config file.")
    var config: String?

    @Option(help: "Directory to serve when there is no config file.")
    var root: String = "."

    @Option(help: "Address to listen on, HOST:PORT or [IPv6]:PORT; repeatable. Overrides the config's listen.")
    var listen: [String] = []

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int = System.coreCount

    @Option(help: "Error log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration: TacetConfiguration
        do {
            let addresses = try listen.map { try ListenAddress(parsing: $0) }
            if let config {
                configuration = try ConfigLoader.load(path: config)
                if !addresses.isEmpty { configuration.listen = addresses }
            } else {
                configuration = ConfigLoader.defaultConfiguration(
                    root: root, listen: addresses.isEmpty ? TacetConfiguration.defaultListen : addresses)
            }
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
        // Before anything is announced: a signal sent as soon as we say "listening" must count.
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        let server = try TacetServer(configuration: configuration, threads: threads)
        let bound: [SocketAddress]
        do {
            bound = try await server.start()
        } catch {
            printError("tacet: cannot listen: \(error)")
            await server.shutdown()
            throw ExitCode(1)
        }
        for address in bound {
            writeLine("tacet listening on http://\(Self.describe(address))", to: STDOUT_FILENO)
        }
        for address in server.streamAddresses {
            writeLine("tacet listening on tcp://\(Self.describe(address))", to: STDOUT_FILENO)
        }
        if let address = server.adminAddress {
            writeLine("tacet admin on http://\(Self.describe(address))/metrics", to: STDOUT_FILENO)
        }
        let signal = await signals.next()
        server.logger.info("shutting down", metadata: ["signal": "\(signal)"])
        await server.shutdown()
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
