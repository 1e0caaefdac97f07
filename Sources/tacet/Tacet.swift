import ArgumentParser

/// The `tacet` command: serve, check a config, or probe any server's half-close handling.
@main
struct Tacet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tacet",
        abstract: "An HTTP/1.1 server and reverse proxy that treats TCP half-close as TCP means it.",
        subcommands: [ServeCommand.self, CheckCommand.self, ProbeCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
