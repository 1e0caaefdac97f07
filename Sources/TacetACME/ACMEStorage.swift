import Crypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What ACME keeps under `storage:`, shared by instances that share the directory:
///
///     accounts/<CA host>/account.key       the account key (PEM, mode 0600)
///     accounts/<CA host>/account.url       its URL at that CA
///     certificates/<name>/cert.pem         the chain, leaf first
///     certificates/<name>/key.pem          its key (mode 0600)
///
/// Every file is written to a temporary name, fsynced and renamed: a reader sees the old file
/// or the new one, never part of one.
public struct ACMEStorage: Sendable {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public struct StorageError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The CA's host (and port), a directory name that cannot climb out.
    static func caDirectory(_ directoryURL: String) -> String {
        let host = URLComponents(string: directoryURL).map { ($0.host ?? "ca") + ($0.port.map { "_\($0)" } ?? "") } ?? "ca"
        return String(host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// A managed name as a directory (names are checked DNS names, `*.` kept as `_wildcard.`).
    static func nameDirectory(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "*", with: "_wildcard")
    }

    public func accountKey(for directoryURL: String) throws -> AccountKey {
        let dir = "\(root)/accounts/\(Self.caDirectory(directoryURL))"
        if let pem = try? String(contentsOfFile: "\(dir)/account.key", encoding: .utf8) {
            do {
                return try AccountKey(pem: pem)
            } catch {
                throw StorageError(description: "\(dir)/account.key: not a P-256 private key (\(error))")
            }
        }
        let key = AccountKey()
        try write(key.pem, to: "\(dir)/account.key", private: true)
        return key
    }

    public func accountURL(for directoryURL: String) -> String? {
        let text = try? String(contentsOfFile: "\(root)/accounts/\(Self.caDirectory(directoryURL))/account.url", encoding: .utf8)
        return text?.trimmingCharacters(in: .whitespacesAndNewlines).nilIfEmpty
    }

    public func saveAccountURL(_ url: String, for directoryURL: String) throws {
        try write(url + "\n", to: "\(root)/accounts/\(Self.caDirectory(directoryURL))/account.url", private: false)
    }

    public func certificatePaths(_ name: String) -> (cert: String, key: String) {
        let dir = "\(root)/certificates/\(Self.nameDirectory(name))"
        return ("\(dir)/cert.pem", "\(dir)/key.pem")
    }

    /// The stored chain and key for `name`, if both are there.
    public func certificate(_ name: String) -> (chainPEM: String, keyPEM: String)? {
        let paths = certificatePaths(name)
        guard let chain = try? String(contentsOfFile: paths.cert, encoding: .utf8),
              let key = try? String(contentsOfFile: paths.key, encoding: .utf8) else { return nil }
        return (chain, key)
    }

    /// The key first, then the chain: a reader that finds the new chain finds its key.
    public func save(_ issued: IssuedCertificate, as name: String) throws {
        let paths = certificatePaths(name)
        try write(issued.keyPEM, to: paths.key, private: true)
        try write(issued.chainPEM, to: paths.cert, private: false)
    }

    /// Instances sharing the storage order a name one at a time: `certificates/<name>/order.lock`,
    /// created exclusively, holds its holder and the end of its lease. A lock past its end (its
    /// holder died, or hangs) is taken over: renamed aside first, so of two instances that find it
    /// stale only one removes it, then created afresh. False: another holds it.
    public func lockOrder(_ name: String, holder: String, lease: TimeInterval, now: Date = Date()) -> Bool {
        let dir = (certificatePaths(name).cert as NSString).deletingLastPathComponent
        guard (try? makeDirectory(dir)) != nil else { return false }
        let path = dir + "/order.lock"
        for _ in 0..<2 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 {
                let text = Array("\(holder)\n\(Int(now.addingTimeInterval(lease).timeIntervalSince1970))\n".utf8)
                _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                close(fd)
                return true
            }
            guard errno == EEXIST else { return false }
            let held = (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n") ?? []
            if held.count == 2, let end = Int(held[1]), end > Int(now.timeIntervalSince1970) { return false }
            // Stale (or unreadable: a holder that died while writing it).
            let aside = "\(path).stale.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
            guard rename(path, aside) == 0 else { continue }
            unlink(aside)
        }
        return false
    }

    /// Removes the lock if `holder` still holds it.
    public func unlockOrder(_ name: String, holder: String) {
        let path = ((certificatePaths(name).cert as NSString).deletingLastPathComponent) + "/order.lock"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.split(separator: "\n").first.map(String.init) == holder else { return }
        unlink(path)
    }

    /// Creates the storage directories (0700); throws why not.
    public func prepare() throws {
        for dir in [root, "\(root)/accounts", "\(root)/certificates"] {
            try makeDirectory(dir)
            guard access(dir, W_OK | X_OK) == 0 else { throw StorageError(description: "\(dir): not writable (\(String(cString: strerror(errno))))") }
        }
    }

    private func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw StorageError(description: "\(path): not a directory") }
            return
        }
        var partial = ""
        for component in path.split(separator: "/") {
            partial += "/" + component
            if mkdir(partial, 0o700) != 0 && errno != EEXIST {
                throw StorageError(description: "\(path): cannot be created (\(partial): \(String(cString: strerror(errno))))")
            }
        }
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StorageError(description: "\(path): cannot be created (a file is in the way)")
        }
    }

    private func write(_ text: String, to path: String, private isPrivate: Bool) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try makeDirectory(dir)
        let temporary = "\(path).tmp.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, isPrivate ? 0o600 : 0o644)
        guard fd >= 0 else { throw StorageError(description: "\(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw StorageError(description: "\(temporary): \(reason)")
            }
            written += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StorageError(description: "\(path): \(reason)")
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
