import Foundation

/// Lexical path handling, so relative paths in a config file mean the same thing no matter
/// which directory the server was started from.
public enum Paths {
    /// `path` made absolute against `base` (itself made absolute against the current directory),
    /// with `.`, `..` and repeated slashes removed. Symlinks are left alone on purpose: the
    /// static file module decides how to treat them.
    static func absolute(_ path: String, relativeTo base: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        let absoluteBase = base.hasPrefix("/") ? base : currentDirectory + "/" + base
        return normalize(absoluteBase + "/" + path)
    }

    /// `path` made absolute against the current directory (a command-line argument).
    public static func absolute(_ path: String) -> String {
        absolute(path, relativeTo: currentDirectory)
    }

    /// The directory part of an absolute path ("/" for top-level files).
    static func directory(of path: String) -> String {
        let normalized = normalize(path)
        guard let slash = normalized.lastIndex(of: "/"), slash != normalized.startIndex else { return "/" }
        return String(normalized[..<slash])
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    private static var currentDirectory: String {
        FileManager.default.currentDirectoryPath
    }

    /// Collapses an absolute path; `..` never climbs above "/".
    private static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
