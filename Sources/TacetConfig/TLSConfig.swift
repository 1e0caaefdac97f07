/// TLS on a listener: the certificates it presents (the first by default, the others chosen by
/// the name the client asks for, SNI), the lowest version it accepts, and how long a handshake
/// may take.
public struct TLSListenerConfig: Sendable, Equatable {
    public struct Certificate: Sendable, Equatable {
        /// Absolute paths of a PEM certificate chain (leaf first) and its PEM private key.
        public var cert: String
        public var key: String
        /// Where in the file it was given, for errors found when the files are read.
        public var line: Int

        public init(cert: String, key: String, line: Int = 0) {
            self.cert = cert
            self.key = key
            self.line = line
        }
    }

    public enum MinVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public var certificates: [Certificate]
    public var minVersion: MinVersion = .tls12
    public var handshakeTimeout: Duration = .seconds(10)

    public init(certificates: [Certificate], minVersion: MinVersion = .tls12, handshakeTimeout: Duration = .seconds(10)) {
        self.certificates = certificates
        self.minVersion = minVersion
        self.handshakeTimeout = handshakeTimeout
    }
}

/// An HTTP listener: where it binds, and whether it speaks TLS there.
public struct HTTPListenerConfig: Sendable, Equatable {
    public var address: ListenAddress
    public var tls: TLSListenerConfig?

    public init(address: ListenAddress, tls: TLSListenerConfig? = nil) {
        self.address = address
        self.tls = tls
    }
}

/// Reads a `tls:` mapping: `{ certificates: [{ cert, key }], min_version, handshake_timeout }`.
struct TLSParser {
    let context: ParseContext

    func tls(_ node: ConfigNode) throws(ConfigError) -> TLSListenerConfig {
        let map = try node.mapping(allowedKeys: ["certificates", "min_version", "handshake_timeout"])
        let list = try map.required("certificates")
        let items = try list.sequence()
        guard !items.isEmpty else { throw list.error("must list at least one { cert, key }") }
        var certificates: [TLSListenerConfig.Certificate] = []
        for item in items {
            let pair = try item.mapping(allowedKeys: ["cert", "key"])
            certificates.append(.init(cert: context.resolve(try pair.required("cert").nonEmptyString()),
                                      key: context.resolve(try pair.required("key").nonEmptyString()), line: item.line))
        }
        var config = TLSListenerConfig(certificates: certificates)
        if let version = map["min_version"] {
            let text = try version.string()
            guard let parsed = TLSListenerConfig.MinVersion(rawValue: text) else {
                throw version.error("min_version must be \"1.2\" or \"1.3\", not '\(text)'")
            }
            config.minVersion = parsed
        }
        if let timeout = map["handshake_timeout"] {
            config.handshakeTimeout = try timeout.duration()
        }
        return config
    }
}
