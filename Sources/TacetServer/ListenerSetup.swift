import Logging
import NIOCore
import TacetTunnel
import NIOSSL
import TacetConfig
import TacetHTTP
import TacetHTTP2
import TacetMetrics
import TacetACME
import TacetTLS
import TacetProxyProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP listeners a configuration asks for, each plain or with its TLS setup. Certificates
/// and keys are read and checked here, so `tacet check`, a start and a reload refuse the same
/// files for the same reasons (and a refused reload leaves the old setup serving).
public enum ListenerSetup {
    /// `managed`: where the certificates of `tls.acme` names come from (stand-ins without it).
    public static func specs(_ config: TacetConfiguration, logger: Logger, observer: any HTTPObserver = NoObserver(),
                             managed: (any ManagedCertificates)? = nil) throws(ListenerSetupError) -> [ListenSpec] {
        var specs: [ListenSpec] = []
        try checkCacheZones(config)
        let trusted: CIDRList
        do {
            trusted = try CIDRList(parsing: config.trustedProxies)
        } catch {
            throw ListenerSetupError(keyPath: "trusted_proxies", line: config.trustedProxiesLine, message: error.reason)
        }
        for (i, route) in config.routes.enumerated() {
            for (key, list) in [("allow", route.allow), ("deny", route.deny)] {
                do {
                    _ = try CIDRList(parsing: list)
                } catch {
                    throw ListenerSetupError(keyPath: "routes[\(i)].\(key)", line: route.line, message: error.reason)
                }
            }
        }
        for (i, listener) in config.listeners.enumerated() {
            var spec = ListenSpec(host: listener.address.host, port: listener.address.port)
            if let tls = listener.tls {
                var loaded = try certificates(tls, listener: i)
                for name in tls.acmeNames {
                    do {
                        loaded.append(try (managed ?? StandInCertificates.shared).certificate(for: name))
                    } catch {
                        throw ListenerSetupError(keyPath: "listen[\(i)].tls.acme", line: tls.acmeLine, message: "\(name): \(error)")
                    }
                }
                do {
                    spec.prelude = try ServerTLS(
                        certificates: loaded, minimumVersion: tls.minVersion == .tls13 ? .tlsv13 : .tlsv12,
                        handshakeTimeout: TimeAmount(tls.handshakeTimeout), http2: listener.http2, logger: logger,
                        observer: observer, challenges: tls.acmeNames.isEmpty ? nil : managed?.alpnChallenges)
                } catch {
                    throw ListenerSetupError(keyPath: "listen[\(i)].tls", line: tls.certificates.first?.line ?? tls.acmeLine,
                                        message: "cannot make a TLS context: \(error)")
                }
            }
            if listener.http2 {
                spec.protocols = HTTP2Protocols(mode: listener.tls == nil ? .priorKnowledge : .alpn)
            }
            if listener.proxyProtocol {
                // The balancer's header comes first on the wire, before any TLS.
                spec.prelude = ProxyProtocolPrelude(trusted: trusted, timeout: TimeAmount(config.timeouts.header),
                                                    logger: logger, then: spec.prelude,
                                                    counted: { observer.proxyProtocolRefused(reason: $0.rawValue) })
            }
            specs.append(spec)
        }
        return specs
    }

    /// What each `streams:` entry puts before its glue, by index in the configuration: TLS where
    /// it terminates it, and PROXY header reading (first on the wire) where `proxy_protocol` is on.
    public static func streamPreludes(_ config: TacetConfiguration, logger: Logger,
                                      observer: any HTTPObserver = NoObserver()) throws(ListenerSetupError) -> [Int: any ConnectionPrelude] {
        var preludes: [Int: any ConnectionPrelude] = [:]
        let trusted: CIDRList
        do {
            trusted = try CIDRList(parsing: config.trustedProxies)
        } catch {
            throw ListenerSetupError(keyPath: "trusted_proxies", line: config.trustedProxiesLine, message: error.reason)
        }
        for (i, stream) in config.streams.enumerated() {
            if let tls = stream.tls {
                let loaded = try certificates(tls, keyPath: "streams[\(i)].tls")
                do {
                    preludes[i] = try ServerTLS(
                        certificates: loaded, minimumVersion: tls.minVersion == .tls13 ? .tlsv13 : .tlsv12,
                        handshakeTimeout: TimeAmount(tls.handshakeTimeout), logger: logger, observer: observer).forStreams
                } catch {
                    throw ListenerSetupError(keyPath: "streams[\(i)].tls", line: tls.certificates[0].line,
                                        message: "cannot make a TLS context: \(error)")
                }
            }
            if stream.proxyProtocol {
                preludes[i] = ProxyProtocolPrelude(trusted: trusted, timeout: TimeAmount(config.timeouts.header),
                                                   logger: logger, then: preludes[i],
                                                   counted: { observer.proxyProtocolRefused(reason: $0.rawValue) })
            }
        }
        return preludes
    }

    /// Every certificate a listener presents, read and checked.
    public static func certificates(_ tls: TLSListenerConfig, listener: Int) throws(ListenerSetupError) -> [LoadedCertificate] {
        try certificates(tls, keyPath: "listen[\(listener)].tls")
    }

    static func certificates(_ tls: TLSListenerConfig, keyPath: String) throws(ListenerSetupError) -> [LoadedCertificate] {
        var loaded: [LoadedCertificate] = []
        for (j, pair) in tls.certificates.enumerated() {
            do {
                if let pem = pair.pem {
                    loaded.append(try LoadedCertificate(certificatePEM: pem.certificate, keyPEM: pem.key, name: pair.cert))
                } else {
                    loaded.append(try LoadedCertificate(certPath: pair.cert, keyPath: pair.key))
                }
            } catch {
                throw ListenerSetupError(keyPath: "\(keyPath).certificates[\(j)]", line: pair.line,
                                    message: error.description)
            }
        }
        return loaded
    }

    /// The certificates of `specs`' TLS listeners, for the expiry gauges.
    public static func certificates(of specs: [ListenSpec]) -> [CertificateSource] {
        specs.flatMap { spec -> [CertificateSource] in
            let prelude = (spec.prelude as? ProxyProtocolPrelude)?.next ?? spec.prelude
            guard let tls = prelude as? ServerTLS else { return [] }
            return tls.certificates.map {
                CertificateSource(listen: "\(spec.host):\(spec.port)", file: $0.certPath, notValidAfter: $0.notValidAfter)
            }
        }
    }

    /// One line per certificate for `tacet check`: its file, names and expiry, with a warning
    /// when it expires within 14 days (or has). Needs the certificates to load.
    public static func report(_ config: TacetConfiguration, now: Int = Int(time(nil))) throws(ListenerSetupError) -> [String] {
        _ = try UpstreamTLSSetup(config, logger: Logger(label: "tacet-check"))
        _ = try streamPreludes(config, logger: Logger(label: "tacet-check"))
        try checkCacheZones(config)
        if let acme = config.acme {
            do {
                try ACMEStorage(root: acme.storage).prepare()
            } catch {
                throw ListenerSetupError(keyPath: "acme.storage", line: acme.line, message: "\(error)")
            }
        }
        var lines: [String] = []
        for (i, listener) in config.listeners.enumerated() {
            guard let tls = listener.tls else { continue }
            for certificate in try certificates(tls, listener: i) {
                let days = (certificate.notValidAfter - now) / 86_400
                var line = "listen[\(i)] \(listener.address): \(certificate.certPath): "
                    + "names \(certificate.names.isEmpty ? "(none)" : certificate.names.joined(separator: ", ")); "
                    + "expires \(HTTPDate.format(epochSeconds: certificate.notValidAfter)) (in \(days) days)"
                if certificate.notValidAfter <= now {
                    line = "warning: " + line + ": EXPIRED"
                } else if days < 14 {
                    line = "warning: " + line + ": renew it"
                }
                lines.append(line)
            }
            for name in tls.acmeNames {
                lines.append("listen[\(i)] \(listener.address): acme \(name): " + ACMEManager.report(name, config: config.acme, now: now))
            }
        }
        return lines
    }
}

/// TLS to upstreams: one client setup per upstream with `tls:`, and per `to: "https://..."`
/// address, made (CA files read) when a configuration is loaded, so a bad file is refused by
/// `tacet check`, at start and by a reload.
public struct UpstreamTLSSetup: Sendable {
    public var upstreams: [String: ClientTLS] = [:]
    /// Keyed by the address's description (`HOST:PORT`).
    public var addresses: [String: ClientTLS] = [:]

    public init() {}

    public init(_ config: TacetConfiguration, logger: Logger) throws(ListenerSetupError) {
        for upstream in config.upstreams {
            // `protocol: h2` is HTTP/2 over TLS: verified as `tls:` says, or by default.
            guard let tls = upstream.tls ?? (upstream.protocol == .h2 ? UpstreamTLSConfig() : nil) else { continue }
            // Without server_name, the name checked is the first server's host.
            let host = tls.serverName ?? upstream.servers.first?.address.host
            upstreams[upstream.name] = try Self.make(tls, host: host, keyPath: "upstreams.\(upstream.name).tls",
                                                     alpn: upstream.protocol == .h2 ? ["h2"] : ["http/1.1"], logger: logger)
        }
        for (i, route) in config.routes.enumerated() {
            guard case .proxy(let proxy) = route.action, let tls = proxy.toTLS, case .address(let address) = proxy.target else { continue }
            addresses["\(address)"] = try Self.make(tls, host: address.host, keyPath: "routes[\(i)].proxy.to", logger: logger)
        }
    }

    private static func make(_ tls: UpstreamTLSConfig, host: String?, keyPath: String, alpn: [String] = ["http/1.1"],
                             logger: Logger) throws(ListenerSetupError) -> ClientTLS {
        do {
            return try ClientTLS(serverName: tls.serverName ?? host, caFile: tls.ca, verify: tls.verify, alpn: alpn, logger: logger)
        } catch {
            throw ListenerSetupError(keyPath: keyPath, line: tls.line, message: error.description)
        }
    }
}

/// A TLS listener that cannot be set up: where in the configuration, and why.
public struct ListenerSetupError: Error, Sendable, CustomStringConvertible {
    public let keyPath: String
    public let line: Int
    public let message: String

    public var description: String {
        (line > 0 ? "line \(line): " : "") + "\(keyPath): \(message)"
    }

    /// As a configuration error of `file`, for `tacet check` and the CLI.
    public func located(in file: String) -> ConfigError {
        ConfigError(file: file, line: line, column: 0, keyPath: keyPath, message: message)
    }
}
