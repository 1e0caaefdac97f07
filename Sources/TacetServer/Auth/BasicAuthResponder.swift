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
/// `maxChecks` checks wait at a time: past that a request is answered 503, so a flood of guesses
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

    static let maxChecks = 256

    init(config: BasicAuthConfig, next: any Responder, pool: NIOThreadPool = .singleton,
         verified: VerifiedCredentials = VerifiedCredentials(), checks: Checks = Checks(limit: maxChecks)) {
        self.config = config
        self.verified = verified
        self.pool = pool
        self.checks = checks
        self.next = next
    }

    func respond(to request: Request, writer: ResponseWriter) -> (any RequestHandler)? {
        guard let credentials = BasicCredentials(authorization: request.headers["authorization"]),
              let hash = config.users[credentials.user] else {
            return challenge(writer)
        }
        var forwarded = request
        if !config.pass { forwarded.headers.remove(name: "authorization") }
        if verified.contains(user: credentials.user, password: credentials.password, hash: hash.text) {
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
                if case .success(true) = result {
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
