/// Readers for addresses Tacet connects to (upstream servers, `to:`), as opposed to addresses it binds.
extension ConfigNode {
    /// `HOST:PORT` with an explicit host and a port in 1...65535. `ListenAddress` reads `:8080` as
    /// "all interfaces" and accepts port 0 ("any free port"); neither means anything to connect to.
    func backendAddress() throws(ConfigError) -> ListenAddress {
        try backendAddress(try nonEmptyString())
    }

    /// `text` (this node's, or a part of it) as a backend address.
    func backendAddress(_ text: String) throws(ConfigError) -> ListenAddress {
        if text.hasPrefix(":") {
            throw error("invalid address '\(text)': missing host (expected HOST:PORT, e.g. 127.0.0.1:9000)")
        }
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: text)
        } catch {
            throw self.error("invalid address '\(text)': \(error.reason)")
        }
        guard address.port != 0 else {
            throw error("invalid address '\(text)': port must be in 1...65535")
        }
        return address
    }

    /// A reference to a configured upstream; unknown names are an error here, at the reference,
    /// because that is the line the operator has to fix (or the upstream they forgot to add).
    func upstreamReference(_ context: ParseContext) throws(ConfigError) -> String {
        let name = try nonEmptyString()
        guard context.upstreamNames.contains(name) else {
            let known = context.upstreamNames.sorted()
            let hint = known.isEmpty ? "no upstreams are configured" : "known: \(known.joined(separator: ", "))"
            throw error("unknown upstream '\(name)' (\(hint))")
        }
        return name
    }

    /// Exactly one of `upstream: NAME` / `to: HOST:PORT` in `map`.
    func proxyTarget(_ map: MappingReader, _ context: ParseContext) throws(ConfigError) -> ProxyTarget {
        switch (map["upstream"], map["to"]) {
        case (let upstream?, nil):
            return .upstream(try upstream.upstreamReference(context))
        case (nil, let to?):
            // `http://HOST:PORT`, as nginx's proxy_pass reads, is the plain `HOST:PORT`.
            let text = try to.nonEmptyString()
            if text.lowercased().hasPrefix("http://") {
                let rest = String(text.dropFirst("http://".count))
                guard !rest.contains("/") else {
                    throw to.error("invalid address '\(text)': a path after the address is not supported (use strip_prefix)")
                }
                return .address(try to.backendAddress(rest))
            }
            return .address(try to.backendAddress(text))
        case (_?, let to?):
            throw to.error("give either 'upstream' or 'to', not both")
        case (nil, nil):
            throw error("missing a target: 'upstream: NAME' or 'to: HOST:PORT'")
        }
    }
}
