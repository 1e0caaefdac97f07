import Foundation
import TacetAuth

/// A route's `auth:`: `basic` (an htpasswd file, as nginx's `auth_basic_user_file`) or `request`
/// (a subrequest to an authentication service, nginx's `auth_request`).
public struct AuthConfig: Sendable, Equatable {
    public var basic: BasicAuthConfig?
    public var request: AuthRequestConfig?

    public init(basic: BasicAuthConfig? = nil, request: AuthRequestConfig? = nil) {
        self.basic = basic
        self.request = request
    }
}

/// nginx's `auth_request`, Traefik's forwardAuth: each request asks an authentication service
/// first (a GET to `url` with the client's cookies and Authorization, X-Original-URI and
/// X-Original-Method, X-Forwarded-*), and goes on only on a 2xx.
public struct AuthRequestConfig: Sendable, Equatable {
    /// The service (plain HTTP, host and port) and the target asked for (path and query).
    public var address: ListenAddress
    public var target: String
    /// Fields of the service's 2xx set on the request that goes on, after the client's own
    /// fields of these names were removed (a client cannot forge them).
    public var copyHeaders: [String] = []
    /// A 401 from the service becomes a 302 here (a login page), e.g.
    /// `https://auth.example.com/oauth2/start?rd=https://{host}{uri}`.
    public var redirectOn401: [RedirectConfig.Part]?
    /// Connect and answer within this; else 504.
    public var timeout: Duration = .seconds(5)

    public init(address: ListenAddress, target: String) {
        self.address = address
        self.target = target
    }
}

public struct BasicAuthConfig: Sendable, Equatable {
    /// Shown by the browser's prompt: `WWW-Authenticate: Basic realm="..."`.
    public var realm: String
    /// The htpasswd file, absolute; read when the config is (so SIGHUP re-reads it).
    public var file: String
    public var users: [String: PasswordHash]
    /// Send the client's Authorization on to the route's action (an upstream); off: removed.
    public var pass = false

    public init(realm: String, file: String, users: [String: PasswordHash]) {
        self.realm = realm
        self.file = file
        self.users = users
    }
}

enum AuthParser {
    static func parse(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> AuthConfig {
        let map = try node.mapping(allowedKeys: ["basic", "request"])
        var config = AuthConfig()
        if let basicNode = map["basic"] { config.basic = try basic(basicNode, context: context) }
        if let requestNode = map["request"] { config.request = try request(requestNode) }
        guard config.basic != nil || config.request != nil else { throw node.error("must say how: basic, request, or both") }
        return config
    }

    static func request(_ node: ConfigNode) throws(ConfigError) -> AuthRequestConfig {
        let map = try node.mapping(allowedKeys: ["url", "copy_headers", "redirect_on_401", "timeout"])
        let urlNode = try map.required("url")
        let url = try urlNode.nonEmptyString()
        guard url.lowercased().hasPrefix("http://") else {
            throw urlNode.error("expected http://HOST:PORT/PATH (a plain-HTTP service, usually on loopback), got '\(url)'")
        }
        let rest = url.dropFirst(7)
        let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var target = String(rest[slash...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        guard target.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }), !target.contains("#") else {
            throw urlNode.error("the path may not contain spaces, control characters or a fragment")
        }
        var authority = String(rest[..<slash])
        if !authority.contains(":") || authority.hasSuffix("]") { authority += ":80" }
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: authority)
        } catch {
            throw urlNode.error("'\(url)': \(error.reason)")
        }
        var config = AuthRequestConfig(address: address, target: target)
        if let list = map["copy_headers"] {
            for item in try list.sequence() {
                let name = try item.nonEmptyString()
                guard name.unicodeScalars.allSatisfy(FixedResponseParser.isTokenCharacter) else { throw item.error("invalid header name '\(name)'") }
                guard !FixedResponseParser.reservedHeaders.contains(name.lowercased()), name.lowercased() != "host" else {
                    throw item.error("'\(name)' belongs to the connection and cannot be copied")
                }
                config.copyHeaders.append(name)
            }
        }
        if let redirect = map["redirect_on_401"] {
            config.redirectOn401 = try RedirectParser.template(try redirect.nonEmptyString(), redirect)
        }
        if let timeout = map["timeout"] { config.timeout = try timeout.duration() }
        return config
    }

    static func basic(_ node: ConfigNode, context: ParseContext) throws(ConfigError) -> BasicAuthConfig {
        let map = try node.mapping(allowedKeys: ["realm", "users", "pass"])
        var realm = "restricted"
        if let realmNode = map["realm"] {
            realm = try realmNode.nonEmptyString()
            guard realm.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }) else {
                throw realmNode.error("must be printable ASCII without quotes or backslashes")
            }
        }
        let usersNode = try map.required("users")
        let file = context.resolve(try usersNode.nonEmptyString())
        guard Paths.exists(file), !Paths.isDirectory(file) else { throw usersNode.error("file '\(file)' does not exist") }
        guard let data = FileManager.default.contents(atPath: file), data.count <= 16 * 1024 * 1024 else {
            throw usersNode.error("cannot read '\(file)' (or it is over 16 MiB)")
        }
        let users: [String: PasswordHash]
        do {
            users = try Htpasswd.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw usersNode.error("\(file):\(error.line): \(error.message)")
        }
        guard !users.isEmpty else { throw usersNode.error("'\(file)' has no users") }
        var config = BasicAuthConfig(realm: realm, file: file, users: users)
        if let pass = map["pass"] { config.pass = try pass.flag("pass") }
        return config
    }
}
