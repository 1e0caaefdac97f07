import ArgumentParser
import TacetConfig
import TacetServer

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a config file without serving, like `nginx -t`. Exits 0 when valid, 1 when not.")

    @Option(name: [.customShort("c"), .long], help: "YAML config file.")
    var config: String

    func run() throws {
        do {
            let loaded = try ConfigLoader.load(path: config)
            _ = RuntimeConfiguration(loaded)
            print("tacet: configuration file \(config) is valid")
        } catch {
            printError("tacet: \(error)")
            throw ExitCode(1)
        }
    }
}
