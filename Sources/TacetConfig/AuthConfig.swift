import Foundation
import TacetAuth

/// A route's `auth:`: `basic` (an htpasswd file, as nginx's `auth_basic_user_file`) or `request`
/// (a subrequest to an authentication service, nginx's `auth_request`).
public struct AuthConfig: Sendable, Equatable {
    public var basic: BasicAuthConfig?

    public init(basic: BasicAuthConfig? = nil) {
        self.basic = basic
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
        let map = try node.mapping(allowedKeys: ["basic"])
        guard let basicNode = map["basic"] else { throw node.error("must say how: basic") }
        return AuthConfig(basic: try basic(basicNode, context: context))
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
