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
        /// The PEM text itself instead of files (`--https`: a certificate made in memory, whose
        /// key never touches the disk); `cert` and `key` then only name it.
        public var pem: PEMPair?

        public init(cert: String, key: String, line: Int = 0) {
            self.cert = cert
            self.key = key
            self.line = line
        }

        public init(inMemory pem: PEMPair, name: String) {
            self.cert = name
            self.key = name
            self.line = 0
            self.pem = pem
        }
    }

    public struct PEMPair: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public enum MinVersion: String, Sendable, Equatable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    public var certificates: [Certificate]
    /// `acme:`: names whose certificates the ACME client obtains and renews (one each), presented
    /// after `certificates` (a stand-in, self-signed, until the CA's arrives).
    public var acmeNames: [String] = []
    public var acmeLine = 0
    public var minVersion: MinVersion = .tls12
    public var handshakeTimeout: Duration = .seconds(10)

    public init(certificates: [Certificate], minVersion: MinVersion = .tls12, handshakeTimeout: Duration = .seconds(10)) {
        self.certificates = certificates
        self.minVersion = minVersion
        self.handshakeTimeout = handshakeTimeout
    }
}

/// TLS to an upstream: verified by default, against the system's trust store or `ca`.
public struct UpstreamTLSConfig: Sendable, Equatable {
    /// The name sent as SNI and checked in the server's certificate; nil: the server's host.
    public var serverName: String?
    /// Absolute path of a PEM CA bundle; nil: the system's trust store.
    public var ca: String?
    /// Check the certificate (chain and name). Off only for a server one controls.
    public var verify = true
    public var line = 0

    public init(serverName: String? = nil, ca: String? = nil, verify: Bool = true, line: Int = 0) {
        self.serverName = serverName
        self.ca = ca
        self.verify = verify
        self.line = line
    }
}

/// An HTTP listener: where it binds, and whether it speaks TLS there.
public struct HTTPListenerConfig: Sendable, Equatable {
    public var address: ListenAddress
    public var tls: TLSListenerConfig?
    /// Every connection starts with a PROXY protocol header (v1 or v2) from a trusted peer.
    public var proxyProtocol = false
    /// HTTP/2: by ALPN on a TLS listener (on unless `http2: false`), by prior knowledge on a
    /// plain one (off unless `http2: true`).
    public var http2 = false

    public init(address: ListenAddress, tls: TLSListenerConfig? = nil, proxyProtocol: Bool = false, http2: Bool? = nil) {
        self.address = address
        self.tls = tls
        self.proxyProtocol = proxyProtocol
        self.http2 = http2 ?? (tls != nil)
    }
}

/// Reads a `tls:` mapping: `{ certificates: [{ cert, key }], min_version, handshake_timeout }`
/// on a listener, `{ server_name, ca, verify }` on an upstream.
struct TLSParser {
    let context: ParseContext

    func upstreamTLS(_ node: ConfigNode) throws(ConfigError) -> UpstreamTLSConfig {
        let map = try node.mapping(allowedKeys: ["server_name", "ca", "verify"])
        var config = UpstreamTLSConfig(line: node.line)
        if let name = map["server_name"] { config.serverName = try name.nonEmptyString() }
        if let ca = map["ca"] { config.ca = context.resolve(try ca.nonEmptyString()) }
        if let verify = map["verify"] { config.verify = try verify.flag("verify") }
        return config
    }

    func tls(_ node: ConfigNode) throws(ConfigError) -> TLSListenerConfig {
        let map = try node.mapping(allowedKeys: ["certificates", "acme", "min_version", "handshake_timeout"])
        var acmeNames: [String] = []
        if let names = map["acme"] { acmeNames = try ACMEParser.names(names) }
        let list: ConfigNode
        if let given = map["certificates"] {
            list = given
        } else if acmeNames.isEmpty {
            list = try map.required("certificates")
        } else {
            var config = TLSListenerConfig(certificates: [])
            config.acmeNames = acmeNames
            config.acmeLine = map["acme"]?.line ?? node.line
            return try options(map, into: config)
        }
        let items = try list.sequence()
        guard !items.isEmpty else { throw list.error("must list at least one { cert, key }") }
        var certificates: [TLSListenerConfig.Certificate] = []
        for item in items {
            let pair = try item.mapping(allowedKeys: ["cert", "key"])
            certificates.append(.init(cert: context.resolve(try pair.required("cert").nonEmptyString()),
                                      key: context.resolve(try pair.required("key").nonEmptyString()), line: item.line))
        }
        var config = TLSListenerConfig(certificates: certificates)
        config.acmeNames = acmeNames
        config.acmeLine = map["acme"]?.line ?? 0
        return try options(map, into: config)
    }

    private func options(_ map: MappingReader, into config: TLSListenerConfig) throws(ConfigError) -> TLSListenerConfig {
        var config = config
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
