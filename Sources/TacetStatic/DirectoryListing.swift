import CTacetSys
import TacetHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// nginx's `autoindex`: a directory without its index file listed, as HTML or (for
/// `Accept: application/json`) JSON. Read through a descriptor opened beneath the root, each
/// entry opened beneath it too, so a symlink that leads out of the root is left out rather than
/// followed; dotfiles left out, as nginx does; at most `maxEntries`.
public enum DirectoryListing {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var isDirectory: Bool
        public var size: Int
        public var mtime: Int

        public init(name: String, isDirectory: Bool, size: Int, mtime: Int) {
            self.name = name
            self.isDirectory = isDirectory
            self.size = size
            self.mtime = mtime
        }
    }

    public static let maxEntries = 10_000

    /// The entries of `relative` (a directory beneath `rootFD`), directories first, then by name;
    /// nil if it cannot be read.
    static func read(rootFD: Int32, relative: String) -> (entries: [Entry], truncated: Bool)? {
        let fd = relative.withCString { tacet_openat_beneath(rootFD, $0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0, let directory = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return nil
        }
        defer { closedir(directory) }
        var entries: [Entry] = []
        var truncated = false
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") { continue }
            guard entries.count < maxEntries else { truncated = true; break }
            // Opened beneath the root, not the directory: a link to `../x` inside the root is fine,
            // one out of it fails here (EXDEV) and is not listed.
            let path = relative == "." ? name : relative + "/" + name
            let child = path.withCString { tacet_openat_beneath(rootFD, $0, (tacet_o_path() != 0 ? tacet_o_path() : O_RDONLY | O_NONBLOCK) | O_CLOEXEC) }
            guard child >= 0 else { continue }
            var info = stat()
            let ok = fstat(child, &info) == 0
            close(child)
            guard ok else { continue }
            let type = info.st_mode & S_IFMT
            guard type == S_IFDIR || type == S_IFREG else { continue }
            entries.append(Entry(name: name, isDirectory: type == S_IFDIR, size: Int(info.st_size), mtime: Int(info.st_mtim.tv_sec)))
        }
        entries.sort { ($0.isDirectory ? 0 : 1, $0.name) < ($1.isDirectory ? 0 : 1, $1.name) }
        return (entries, truncated)
    }

    /// The page: names HTML-escaped, links percent-encoded (a name with `?`, `#`, `%` or spaces
    /// still leads to itself), sizes in bytes, times in UTC.
    public static func html(path: String, entries: [Entry], truncated: Bool) -> String {
        let title = escapeHTML(path)
        var page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of \(title)</title></head>\n"
        page += "<body><h1>Index of \(title)</h1><hr><pre>\n"
        if path != "/" { page += "<a href=\"../\">../</a>\n" }
        for entry in entries {
            let shown = entry.name + (entry.isDirectory ? "/" : "")
            let href = percentEncode(entry.name) + (entry.isDirectory ? "/" : "")
            let size = entry.isDirectory ? "-" : String(entry.size)
            page += "<a href=\"\(href)\">\(escapeHTML(shown))</a>  \(isoTime(entry.mtime))  \(size)\n"
        }
        if truncated { page += "(only the first \(maxEntries) entries)\n" }
        page += "</pre><hr></body></html>\n"
        return page
    }

    /// nginx's `autoindex_format json`: name, type, mtime (an HTTP date), size for files.
    public static func json(entries: [Entry]) -> String {
        var out = "["
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += "," }
            out += "\n{ \"name\": \"\(escapeJSON(entry.name))\", \"type\": \"\(entry.isDirectory ? "directory" : "file")\", "
            out += "\"mtime\": \"\(HTTPDate.format(epochSeconds: entry.mtime))\""
            if !entry.isDirectory { out += ", \"size\": \(entry.size)" }
            out += " }"
        }
        return out + "\n]\n"
    }

    static func escapeHTML(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func escapeJSON(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar == "<" || scalar == ">" || scalar == "&":
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Every byte but RFC 3986's unreserved characters escaped, so a name is one path segment.
    static func percentEncode(_ name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    static func isoTime(_ epoch: Int) -> String {
        var seconds = time_t(epoch)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min))"
    }
}
