import TacetProbe

// Builds against the library's public API, as a user's package would.
if let url = CommandLine.arguments.dropFirst().first {
    let target = try HTTPTarget.parse(url)
    print("would probe \(target)")
} else {
    print("usage: ProbeConsumer URL")
}
