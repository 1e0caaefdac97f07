import ArgumentParser
import TacetConfig
import TacetServer

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file without serving, like `nginx -t`. Exits 0 when valid, 1 when not.",
        discussion: """
            Checks the file (syntax, keys, values, paths), binds each listen address once \
            (listen, streams, admin) and opens the access log file, as serve would: an address \
            that cannot be bound, or a log that cannot be opened, is an error; an address in use \
            (by the running server, say) is noted and is not.
            """)

    @Option(name: [.customShort("c"), .long], help: "YAML config file.")
    var config: String

    func run() throws {
        let loaded: TacetConfiguration
        do {
            loaded = try ConfigLoader.load(path: config)
            _ = RuntimeConfiguration(loaded)
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
        do {
            for line in try ListenerSetup.report(loaded) { print("tacet: \(line)") }
            for line in CompressionReport.lines(loaded) { print("tacet: \(line)") }
            for line in RouteReachability.warnings(loaded) { print("tacet: \(line)") }
        } catch {
            printError("tacet: \(error.located(in: config))")
            throw ExitCode(1)
        }
        let listening = StartupCheck.run(loaded, file: config)
        for address in listening.inUse {
            print("tacet: note: \(address) is in use now (by the running server?)")
        }
        guard listening.errors.isEmpty else {
            for error in listening.errors { printError("tacet: \(error)") }
            throw ExitCode(1)
        }
        print("tacet: configuration file \(config) is valid")
    }
}
