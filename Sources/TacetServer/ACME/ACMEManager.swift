import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import TacetACME
import TacetConfig
import TacetHTTP
import TacetTLS
import X509

/// The names TLS listeners list under `tls.acme`, kept certified: at start a stored certificate
/// is served if there is one, a self-signed stand-in if not (startup never waits for the CA);
/// in the background each name without a certificate, or past two thirds of its lifetime, is
/// ordered, stored (key and chain written atomically) and swapped in by a reload of the
/// current configuration, the path SIGHUP takes (open connections keep theirs). Failures are
/// retried with exponential backoff from 2 minutes (so Let's Encrypt's 5 failed validations per
/// name per hour are never reached; 5 seconds when the CA was not reached at all), up to 6 hours.
public final class ACMEManager: ManagedCertificates {
    public let config: ACMEConfig
    public let storage: ACMEStorage
    /// http-01 tokens out, which the listeners answer before any route.
    public let tokens = HTTP01Tokens()
    /// tls-alpn-01 certificates out, which TLS listeners with managed names present first.
    public let alpn = TLSALPNChallenges()
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    struct State {
        var names: [String] = []
        var status: [String: NameStatus] = [:]
        var task: Task<Void, Never>?
        /// Names whose latest certificate the listeners present, and who waits to hear of one.
        var inUse: Set<String> = []
        var watchers: [String: [@Sendable () -> Void]] = [:]
        /// Called at the next swap of a name's certificate, or at its next failure.
        var swapWatchers: [String: [@Sendable () -> Void]] = [:]
        var failureWatchers: [String: [@Sendable (String) -> Void]] = [:]
        var deferWatchers: [String: [@Sendable (String) -> Void]] = [:]
        /// Obtained and stored, not yet swapped in.
        var pending: Set<String> = []
        /// Orders by outcome, for the metrics.
        var issued = 0
        var failed = 0
    }

    /// What the log, metrics and `tacet check` say of one name.
    public struct NameStatus: Sendable {
        public var notAfter: Date?
        public var renewAt: Date?
        public var failures = 0
        public var retryAt: Date?
        public var lastError: String?
    }

    static let firstRetry: TimeInterval = 120
    /// When the CA was not reached at all (refused, unreachable, its TLS not trusted): nothing
    /// counted against its limits, so sooner (a CA still coming up at boot, the network late).
    static let firstUnreachableRetry: TimeInterval = 5
    static let maxRetry: TimeInterval = 6 * 3600

    /// Creates the storage directories; throws why they cannot be.
    public init(config: ACMEConfig, logger: Logger) throws {
        self.config = config
        self.storage = ACMEStorage(root: config.storage)
        self.logger = logger
        try storage.prepare()
    }

    /// The managed names of `configuration` (on start and every reload).
    public func configure(_ configuration: TacetConfiguration) {
        var names: [String] = []
        for tls in configuration.listeners.compactMap(\.tls) {
            for name in tls.acmeNames where !names.contains(name) { names.append(name) }
        }
        state.withLockedValue { $0.names = names }
    }

    public var managedNames: [String] { state.withLockedValue { $0.names } }

    /// What is known of `name`: this run's attempts, else what its stored certificate says.
    public func status(of name: String) -> NameStatus {
        state.withLockedValue { $0.status[name] } ?? Self.stored(storage, name)
    }

    public var alpnChallenges: (any ALPNChallengeCertificates)? {
        config.challenges.contains(.tlsALPN01) ? ALPNChallengeSource(challenges: alpn) : nil
    }

    /// The stored certificate while it is valid, else the stand-in.
    public func certificate(for name: String) throws -> LoadedCertificate {
        let paths = storage.certificatePaths(name)
        if FileManager.default.fileExists(atPath: paths.cert),
           let stored = try? LoadedCertificate(certPath: paths.cert, keyPath: paths.key),
           stored.notValidAfter > Int(Date().timeIntervalSince1970), stored.names.contains(name) {
            return stored
        }
        return try StandInCertificates.shared.certificate(for: name)
    }

    /// Starts the background work; `renewed` swaps new certificates in (a reload).
    public func start(group: any EventLoopGroup, renewed: @escaping @Sendable () async -> Void) {
        let task = Task { [self] in await run(group: group, renewed: renewed) }
        state.withLockedValue { $0.task = task }
    }

    public func stop() {
        state.withLockedValue { $0.task }?.cancel()
    }

    /// Calls `handler` once the listeners present a certificate obtained for `name` by this
    /// process (at once if they already do).
    public func whenInUse(_ name: String, _ handler: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state -> Bool in
            if state.inUse.contains(name) { return true }
            state.watchers[name, default: []].append(handler)
            return false
        }
        if now { handler() }
    }

    /// Calls `handler` once, after the next certificate obtained for `name` is swapped in (a renewal).
    public func whenSwapped(_ name: String, _ handler: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.swapWatchers[name, default: []].append(handler) }
    }

    /// Calls `handler` once, with the error, at the next failed attempt for `name`.
    public func whenFailed(_ name: String, _ handler: @escaping @Sendable (String) -> Void) {
        state.withLockedValue { $0.failureWatchers[name, default: []].append(handler) }
    }

    /// After the reload that put the new certificates in.
    func swappedIn() {
        let handlers = state.withLockedValue { state -> [@Sendable () -> Void] in
            var handlers: [@Sendable () -> Void] = []
            for name in state.pending {
                state.inUse.insert(name)
                handlers += state.watchers.removeValue(forKey: name) ?? []
                handlers += state.swapWatchers.removeValue(forKey: name) ?? []
            }
            state.pending = []
            return handlers
        }
        for handler in handlers { handler() }
    }

    private func run(group: any EventLoopGroup, renewed: @escaping @Sendable () async -> Void) async {
        let client: ACMEClient
        do {
            let transport = try NIOACMETransport(group: group, caFile: config.ca)
            client = ACMEClient(directoryURL: config.directory, key: try storage.accountKey(for: config.directory),
                                transport: transport, logger: logger)
        } catch {
            logger.error("ACME: cannot start: \(error)")
            return
        }
        let solvers: [any ChallengeSolver] = config.challenges.map { $0 == .http01 ? tokens as any ChallengeSolver : alpn }
        var registered = false
        while !Task.isCancelled {
            var changed = false
            for name in managedNames {
                // Another instance sharing the storage may have stored one meanwhile.
                if pickUp(name) { changed = true }
                guard isDue(name, now: Date()) else { continue }
                guard storage.lockOrder(name, holder: holder, lease: Self.orderLease) else {
                    deferOrder(name)
                    continue
                }
                defer { storage.unlockOrder(name, holder: holder) }
                do {
                    if !registered {
                        let url = try await client.register(email: config.email,
                                                            externalAccount: config.externalAccount.map { ($0.keyID, $0.hmac) })
                        try? storage.saveAccountURL(url, for: config.directory)
                        registered = true
                    }
                    let issued = try await CertificateOrder(client: client, solvers: solvers, logger: logger).obtain([name])
                    try storage.save(issued, as: name)
                    let expiry = recordSuccess(name)
                    logger.notice("ACME: certificate for \(name) obtained", metadata: [
                        "ca": "\(config.directory)", "expires": "\(expiry.map { "\($0)" } ?? "?")",
                    ])
                    changed = true
                } catch {
                    let retry = recordFailure(name, error)
                    logger.error("ACME: no certificate for \(name) yet: \(error)", metadata: ["retry_in_s": "\(Int(retry))"])
                }
            }
            if changed { await renewed() }
            do {
                try await Task.sleep(for: .seconds(nextWake(now: Date())))
            } catch {
                return
            }
        }
    }

    /// Who holds an order lock: this host and process.
    private let holder: String = {
        var name = [UInt8](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return "\(String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)):\(getpid())"
    }()

    /// How long an order lock holds (an order takes seconds; a holder that died frees it then),
    /// and how soon an instance that found it held looks again.
    static let orderLease: TimeInterval = 600
    static let lockRetry: TimeInterval = 10

    /// Another instance holds the order: nothing counted as a failure; looked at again soon,
    /// when its certificate may be stored.
    private func deferOrder(_ name: String) {
        let watchers = state.withLockedValue { state -> [@Sendable (String) -> Void] in
            var status = state.status[name] ?? NameStatus()
            status.retryAt = Date().addingTimeInterval(Self.lockRetry)
            state.status[name] = status
            return state.deferWatchers.removeValue(forKey: name) ?? []
        }
        logger.info("ACME: another instance is ordering \(name); looking again in \(Int(Self.lockRetry)) s")
        for watcher in watchers { watcher(name) }
    }

    /// Calls `handler` once, when `name`'s order is left to another instance holding the lock.
    public func whenDeferred(_ name: String, _ handler: @escaping @Sendable (String) -> Void) {
        state.withLockedValue { $0.deferWatchers[name, default: []].append(handler) }
    }

    /// A certificate in storage that this process has not loaded (another instance's): taken as
    /// this name's, to be swapped in. True when there is one.
    private func pickUp(_ name: String) -> Bool {
        let fresh = Self.stored(storage, name)
        return state.withLockedValue { state in
            guard let known = state.status[name] else {
                state.status[name] = fresh
                return false
            }
            guard let notAfter = fresh.notAfter, notAfter != known.notAfter else { return false }
            state.status[name] = fresh
            state.pending.insert(name)
            return true
        }
    }

    /// No valid stored certificate, or past its renewal time; and not backing off.
    func isDue(_ name: String, now: Date) -> Bool {
        let status = state.withLockedValue { state in
            if state.status[name] == nil { state.status[name] = Self.stored(storage, name) }
            return state.status[name] ?? NameStatus()
        }
        if let retryAt = status.retryAt, retryAt > now { return false }
        guard let renewAt = status.renewAt else { return true }
        return renewAt <= now
    }

    /// What the stored certificate says: its expiry and renewal time (two thirds of its
    /// lifetime, less up to a hundredth of it as jitter, so instances sharing a CA do not renew
    /// in step).
    static func stored(_ storage: ACMEStorage, _ name: String) -> NameStatus {
        var status = NameStatus()
        guard let chain = storage.certificate(name)?.chainPEM, let end = chain.range(of: "-----END CERTIFICATE-----"),
              let leaf = try? Certificate(pemEncoded: String(chain[..<end.upperBound])) else { return status }
        let lifetime = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore)
        status.notAfter = leaf.notValidAfter
        status.renewAt = leaf.notValidBefore.addingTimeInterval(lifetime * 2 / 3 - Double.random(in: 0...max(1, lifetime / 100)))
        return status
    }

    /// What `/metrics` reports: orders by outcome, and each managed name's state.
    public var metrics: (issued: Int, failed: Int, names: [(String, NameStatus)]) {
        let (issued, failed, names) = state.withLockedValue { ($0.issued, $0.failed, $0.names) }
        return (issued, failed, names.map { ($0, status(of: $0)) })
    }

    /// `tacet check`'s line for a managed name: what is stored, and when it renews.
    public static func report(_ name: String, config: ACMEConfig?, now: Int) -> String {
        guard let config else { return "no acme: block" }
        let status = stored(ACMEStorage(root: config.storage), name)
        guard let notAfter = status.notAfter, let renewAt = status.renewAt else {
            return "nothing stored under \(config.storage) yet: ordered from \(config.directory) at start (a self-signed stand-in until then)"
        }
        let expires = Int(notAfter.timeIntervalSince1970)
        let renews = Int(renewAt.timeIntervalSince1970)
        let line = "stored, expires \(HTTPDate.format(epochSeconds: expires)) (in \((expires - now) / 86_400) days), "
            + (renews <= now ? "renewal due now" : "renews around \(HTTPDate.format(epochSeconds: renews))")
        return expires <= now ? "warning: " + line + ": EXPIRED (ordered again at start)" : line
    }

    private func recordSuccess(_ name: String) -> Date? {
        let fresh = Self.stored(storage, name)
        state.withLockedValue {
            $0.status[name] = fresh
            $0.pending.insert(name)
            $0.issued += 1
        }
        return fresh.notAfter
    }

    /// The backoff: 2 minutes, doubling per failure in a row, at most 6 hours; a CA that said
    /// when to come back (Retry-After) is believed when that is later.
    private func recordFailure(_ name: String, _ error: any Error) -> TimeInterval {
        let (delay, watchers) = state.withLockedValue { state -> (TimeInterval, [@Sendable (String) -> Void]) in
            var status = state.status[name] ?? NameStatus()
            status.failures += 1
            let first = error is ACMEError ? Self.firstRetry : Self.firstUnreachableRetry
            var delay = min(Self.maxRetry, first * pow(2, Double(status.failures - 1)))
            if case ACMEError.retryLater(let seconds, _) = error { delay = max(delay, Double(seconds)) }
            status.retryAt = Date().addingTimeInterval(delay)
            status.lastError = "\(error)"
            state.status[name] = status
            state.failed += 1
            return (delay, state.failureWatchers.removeValue(forKey: name) ?? [])
        }
        for watcher in watchers { watcher("\(error)") }
        return delay
    }

    /// Seconds until the next name is due, between 1 and an hour.
    private func nextWake(now: Date) -> Double {
        let times = state.withLockedValue { state in
            state.names.compactMap { name -> Date? in
                guard let status = state.status[name] else { return now }
                return [status.renewAt, status.retryAt].compactMap { $0 }.max() ?? now
            }
        }
        let next = times.min().map { $0.timeIntervalSince(now) } ?? 3600
        return min(3600, max(1, next))
    }
}

/// The ACME module's tls-alpn-01 store as the TLS listeners ask for it.
struct ALPNChallengeSource: ALPNChallengeCertificates {
    let challenges: TLSALPNChallenges

    func certificate(serverName: String) -> (NIOSSLCertificate, NIOSSLPrivateKey)? { challenges.certificate(serverName: serverName) }
    var isEmpty: Bool { challenges.isEmpty }
}
