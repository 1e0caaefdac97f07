import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One finished (or abandoned) request, as the access log records it.
public struct AccessLogEntry: Sendable {
    public var remoteAddress: String
    public var epochSeconds: Int
    public var method: String
    public var target: String
    public var version: String
    public var status: Int
    public var bodyBytes: Int
    public var durationMs: Double
    public var referer: String?
    public var userAgent: String?
    /// `complete`, or why the request ended early: a `ConnectionEndReason` raw value.
    public var end: String
}

/// Writes access log lines to a file descriptor: nginx's combined format plus the end reason
/// and duration, or JSON lines. One write(2) per line under a lock: lines never interleave.
public final class AccessLog: Sendable {
    public enum Format: Sendable { case combined, json }

    private let fd: Int32
    private let ownsFD: Bool
    private let format: Format
    private let lock = NIOLock()

    /// Log to standard output.
    public init(standardOutputWithFormat format: Format = .combined) {
        self.fd = STDOUT_FILENO
        self.ownsFD = false
        self.format = format
    }

    /// Log to a file, appending.
    public init(path: String, format: Format = .combined) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AccessLogError(path: path, errno: errno) }
        self.fd = fd
        self.ownsFD = true
        self.format = format
    }

    deinit {
        if ownsFD { close(fd) }
    }

    public func log(_ entry: AccessLogEntry) {
        let line = format == .combined ? Self.combined(entry) : Self.json(entry)
        lock.withLock {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    static func combined(_ e: AccessLogEntry) -> String {
        let request = e.method == "-" ? "-" : "\(e.method) \(e.target) \(e.version)"
        return "\(e.remoteAddress) - - [\(HTTPDateFormatter.formatCommonLog(epochSeconds: e.epochSeconds))] "
            + "\"\(escape(request))\" \(e.status) \(e.bodyBytes) \"\(escape(e.referer ?? "-"))\" "
            + "\"\(escape(e.userAgent ?? "-"))\" \(formatMs(e.durationMs)) \(e.end)"
    }

    static func json(_ e: AccessLogEntry) -> String {
        "{\"remote\":\"\(escape(e.remoteAddress))\",\"time\":\(e.epochSeconds),\"method\":\"\(escape(e.method))\","
            + "\"target\":\"\(escape(e.target))\",\"version\":\"\(e.version)\",\"status\":\(e.status),"
            + "\"bytes\":\(e.bodyBytes),\"duration_ms\":\(formatMs(e.durationMs)),"
            + "\"referer\":\"\(escape(e.referer ?? ""))\",\"user_agent\":\"\(escape(e.userAgent ?? ""))\","
            + "\"end\":\"\(e.end)\"}"
    }

    private static func formatMs(_ ms: Double) -> String {
        let tenths = Int((ms * 1000).rounded())
        return "\(tenths / 1000).\(String(tenths % 1000 + 1000).dropFirst())"
    }

    /// Escapes quotes, backslashes and control bytes so a line stays one line and parses.
    static func escape(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) else { return s }
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20 || u.value == 0x7F:
                let hex = String(u.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }
}

public struct AccessLogError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot open access log \(path): \(String(cString: strerror(errno)))" }
}
