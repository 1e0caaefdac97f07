import NIOConcurrencyHelpers

/// Where a challenge is put for the CA to find while an order is under way: a solver per type.
public protocol ChallengeSolver: Sendable {
    /// `http-01`, `tls-alpn-01`.
    var type: String { get }
    func present(name: String, token: String, keyAuthorization: String) throws
    func remove(name: String, token: String)
}

/// http-01 (RFC 8555 §8.3): `GET /.well-known/acme-challenge/TOKEN` on port 80 answers the key
/// authorization. The HTTP listeners ask `response(path:)` before any route.
public final class HTTP01Tokens: ChallengeSolver {
    public static let prefix = "/.well-known/acme-challenge/"
    public var type: String { "http-01" }
    private let tokens = NIOLockedValueBox<[String: String]>([:])

    public init() {}

    public func present(name: String, token: String, keyAuthorization: String) {
        tokens.withLockedValue { $0[token] = keyAuthorization }
    }

    public func remove(name: String, token: String) {
        _ = tokens.withLockedValue { $0.removeValue(forKey: token) }
    }

    /// The key authorization for a request path, nil when it is not a token being validated.
    public func response(path: String) -> String? {
        guard path.hasPrefix(Self.prefix) else { return nil }
        let token = path.dropFirst(Self.prefix.count)
        guard !token.isEmpty, token.utf8.allSatisfy(Self.isBase64URL) else { return nil }
        return tokens.withLockedValue { $0[String(token)] }
    }

    /// Whether any token is out: when none is, the listeners need not look.
    public var isEmpty: Bool { tokens.withLockedValue { $0.isEmpty } }

    static func isBase64URL(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
