import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TacetAuth
import TacetConfig
import TacetHTTP

/// nginx's `auth_basic`: a request goes on only with a user and password the htpasswd file
/// holds, else 401 with `WWW-Authenticate`. bcrypt and SHA-crypt are slow on purpose, so a check
/// runs on the thread pool, never the event loop, while the request waits (`DeferredRequest`);
/// credentials already checked are known from a bounded cache and go on at once. At most
/// 256 checks wait at a time, across routes: past that a request is answered 503, so a flood of guesses
/// cannot queue work without bound. The Authorization field is removed before the action sees
/// it unless `pass` says otherwise.
struct BasicAuthResponder: Responder {
    let config: BasicAuthConfig
    let verified: VerifiedCredentials
    let pool: NIOThreadPool
    let checks: Checks
    let next: any Responder

    /// Checks waiting or running, across every event loop.
    final class Checks: Sendable {
        let running = Atomic<Int>(0)
        let limit: Int
        init(limit: Int) { self.limit = limit }
    }

    /// One count for every route and every generation: a reload does not reset it.
    static let sharedChecks = Checks(limit: 256)
    /// Longer passwords are refused unchecked: bcrypt reads 72 bytes, and SHA-crypt's cost
    /// grows with the length, so a long guess would cost many checks.
    static let maxPassword = 256

    init(config: BasicAuthConfig, next: any Responder, pool: NIOThreadPool = .singleton,
         verified: VerifiedCredentials = VerifiedCredentials(), checks: Checks = BasicAuthResponder.sharedChecks) {
        self.config = config
        self.verified = verified
        self.pool = pool
        self.checks = checks
        self.next = next
        self.decoy = config.users.min { $0.key < $1.key }?.value
    }

    /// An unknown user's password is checked against a real entry's hash too (and always
    /// refused), so the time of a 401 does not tell which user names exist.
    private let decoy: PasswordHash?

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let credentials = BasicCredentials(authorization: request.headers["authorization"]),
              credentials.password.count <= Self.maxPassword, let hash = config.users[credentials.user] ?? decoy else {
            return challenge(writer)
        }
        let isUser = config.users[credentials.user] != nil
        var forwarded = request
        if !config.pass { forwarded.headers.remove(name: "authorization") }
        if isUser, verified.contains(user: credentials.user, password: credentials.password, hash: hash.text) {
            return next.respond(to: forwarded, writer: writer)
        }
        guard checks.running.add(1, ordering: .relaxed).newValue <= checks.limit else {
            checks.running.subtract(1, ordering: .relaxed)
            ErrorResponse.write(writer, status: 503, reason: "too many password checks waiting", headers: ["Retry-After": "1"])
            return nil
        }
        let deferred = DeferredRequest(writer: writer)
        let password = credentials.password
        let checks = self.checks
        pool.runIfActive(eventLoop: writer.eventLoop) { hash.verify(password) }
            .assumeIsolated()
            .whenComplete { [verified, next, realm = config.realm] result in
                checks.running.subtract(1, ordering: .relaxed)
                guard !deferred.isCancelled else { return }
                if isUser, case .success(true) = result {
                    verified.insert(user: credentials.user, password: password, hash: hash.text)
                    deferred.proceed { next.respond(to: forwarded, writer: writer) }
                } else {
                    deferred.refuse { Self.writeChallenge(writer, realm: realm) }
                }
            }
        return deferred
    }

    private func challenge(_ writer: ResponseWriter) -> (any RequestHandler)? {
        Self.writeChallenge(writer, realm: config.realm)
        return nil
    }

    static func writeChallenge(_ writer: ResponseWriter, realm: String) {
        ErrorResponse.write(writer, status: 401, reason: "unauthorized",
                            headers: ["WWW-Authenticate": "Basic realm=\"\(realm)\", charset=\"UTF-8\""])
    }
}
