/// A password hash from an htpasswd file, in a scheme Tacet checks. The weak ones Apache's
/// htpasswd can also write are refused when the file is loaded, each with why: MD5 (`$apr1$`),
/// SHA-1 (`{SHA}`), crypt(3) DES and plain text.
public enum PasswordHash: Sendable, Equatable {
    case bcrypt(String)
    case shaCrypt(String)

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case md5, sha1, plainOrDES, malformed(String)

        public var description: String {
            switch self {
            case .md5: "MD5 (\"$apr1$\") hashes are refused: re-create the entry with `htpasswd -B` (bcrypt)"
            case .sha1: "SHA-1 (\"{SHA}\") hashes are refused: re-create the entry with `htpasswd -B` (bcrypt)"
            case .plainOrDES: "plain-text and crypt(3) DES passwords are refused: re-create the entry with `htpasswd -B` (bcrypt)"
            case .malformed(let why): why
            }
        }
    }

    public init(parsing text: String) throws(Refusal) {
        if text.hasPrefix("$2a$") || text.hasPrefix("$2b$") || text.hasPrefix("$2y$") {
            guard let parsed = Bcrypt.parse(text) else {
                throw .malformed("not a bcrypt hash Tacet accepts ($2y$ with cost \(Bcrypt.costs.lowerBound)...\(Bcrypt.costs.upperBound), 22 characters of salt, 31 of hash)")
            }
            _ = parsed
            self = .bcrypt(text)
        } else if text.hasPrefix("$5$") || text.hasPrefix("$6$") {
            guard SHACrypt.parse(text) != nil else {
                throw .malformed("not a SHA-crypt hash Tacet accepts ($5$ or $6$, rounds at most \(SHACrypt.maxRounds))")
            }
            self = .shaCrypt(text)
        } else if text.hasPrefix("$apr1$") || text.hasPrefix("$1$") {
            throw .md5
        } else if text.hasPrefix("{SHA}") {
            throw .sha1
        } else {
            throw .plainOrDES
        }
    }

    public var text: String {
        switch self {
        case .bcrypt(let text), .shaCrypt(let text): text
        }
    }

    /// Slow on purpose (bcrypt's cost, SHA-crypt's rounds): run it off the event loop.
    public func verify(_ password: [UInt8]) -> Bool {
        switch self {
        case .bcrypt(let hash): Bcrypt.verify(password, hash: hash)
        case .shaCrypt(let hash): SHACrypt.verify(password, hash: hash)
        }
    }
}

/// An Apache htpasswd file: `user:hash` per line, `#` comments and blank lines skipped.
public enum Htpasswd {
    public struct LineError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    public static func parse(_ text: String) throws(LineError) -> [String: PasswordHash] {
        var users: [String: PasswordHash] = [:]
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            let number = index + 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else { throw LineError(line: number, message: "expected user:hash") }
            let user = String(line[..<colon])
            guard !user.isEmpty, user.utf8.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
                throw LineError(line: number, message: "the user name is empty or has spaces or control characters")
            }
            guard users[user] == nil else { throw LineError(line: number, message: "user '\(user)' is listed twice") }
            do {
                users[user] = try PasswordHash(parsing: String(line[line.index(after: colon)...]))
            } catch {
                throw LineError(line: number, message: "user '\(user)': \(error.description)")
            }
        }
        return users
    }
}
