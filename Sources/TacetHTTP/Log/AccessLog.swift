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
    /// X-Request-ID, with `request_id: true`.
    public var requestID: String? = nil
    /// A gRPC answer's `grpc-status` (`grpc=N` after the end reason).
    public var grpcStatus: String? = nil
    /// The content coding Tacet compressed the body with (`enc=gzip ratio=0.274`).
    public var coding: CodingNote? = nil
}

/// A body Tacet compressed: the coding, and its size before and after.
public struct CodingNote: Sendable, Equatable {
    public var coding: String
    public var uncompressedBytes: Int
    public var compressedBytes: Int

    public init(coding: String, uncompressedBytes: Int, compressedBytes: Int) {
        self.coding = coding
        self.uncompressedBytes = uncompressedBytes
        self.compressedBytes = compressedBytes
    }

    /// Compressed over uncompressed size, three decimals ("0.274"); "1.000" for an empty body.
    public var ratio: String {
        guard uncompressedBytes > 0 else { return "1.000" }
        let thousandths = (compressedBytes * 1000 + uncompressedBytes / 2) / uncompressedBytes
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Writes access log lines to a file descriptor: nginx's combined format plus the end reason
/// and duration, or JSON lines. One write(2) per line under a lock: lines never interleave,
/// and `reopen()` swaps the descriptor under the same lock, so no line is split between the
/// old file and the new one.
public final class AccessLog: Sendable {
    public enum Format: Sendable { case combined, json }

    /// The descriptor written to; replaced by `reopen()`. Only touched under the box's lock.
    private let fd: NIOLockedValueBox<Int32>
    /// The file's path, or nil for standard output (never reopened, never closed).
    public let path: String?
    private let format: Format

    /// Log to standard output.
    public init(standardOutputWithFormat format: Format = .combined) {
        self.fd = NIOLockedValueBox(STDOUT_FILENO)
        self.path = nil
        self.format = format
    }

    /// Log to a file, appending.
    public init(path: String, format: Format = .combined) throws {
        self.fd = NIOLockedValueBox(try Self.openForAppend(path))
        self.path = path
        self.format = format
    }

    deinit {
        if path != nil { close(fd.withLockedValue { $0 }) }
    }

    /// Opens `path` again and writes there from the next line on (SIGUSR1, after logrotate
    /// renamed the file away). The old descriptor is closed only once no line is being
    /// written to it. Standard output is left alone. On failure the old file stays in use.
    public func reopen() throws {
        guard let path else { return }
        let new = try Self.openForAppend(path)
        let old = fd.withLockedValue { current in
            defer { current = new }
            return current
        }
        close(old)
    }

    private static func openForAppend(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AccessLogError(path: path, errno: errno) }
        return fd
    }

    public func log(_ entry: AccessLogEntry) {
        let line = format == .combined ? Self.combined(entry) : Self.json(entry)
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        fd.withLockedValue { fd in
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var offset = 0
                while offset < raw.count {
                    let n = write(fd, base + offset, raw.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }
                    offset += n
                }
            }
        }
    }

    static func combined(_ e: AccessLogEntry) -> String {
        let request = e.method == "-" ? "-" : "\(e.method) \(e.target) \(e.version)"
        return "\(e.remoteAddress) - - [\(CommonLogTime.format(epochSeconds: e.epochSeconds))] "
            + "\"\(escape(request))\" \(e.status) \(e.bodyBytes) \"\(escape(e.referer ?? "-"))\" "
            + "\"\(escape(e.userAgent ?? "-"))\" \(formatMs(e.durationMs)) \(e.end)"
            + (e.grpcStatus.map { " grpc=\(escape($0))" } ?? "")
            + (e.coding.map { " enc=\(escape($0.coding)) ratio=\($0.ratio)" } ?? "")
            + (e.requestID.map { " \(escape($0))" } ?? "")
    }

    static func json(_ e: AccessLogEntry) -> String {
        "{\"remote\":\"\(escape(e.remoteAddress))\",\"time\":\(e.epochSeconds),\"method\":\"\(escape(e.method))\","
            + "\"target\":\"\(escape(e.target))\",\"version\":\"\(e.version)\",\"status\":\(e.status),"
            + "\"bytes\":\(e.bodyBytes),\"duration_ms\":\(formatMs(e.durationMs)),"
            + "\"referer\":\"\(escape(e.referer ?? ""))\",\"user_agent\":\"\(escape(e.userAgent ?? ""))\","
            + "\"end\":\"\(e.end)\"" + (e.grpcStatus.map { ",\"grpc_status\":\"\(escape($0))\"" } ?? "")
            + (e.coding.map { ",\"encoding\":\"\(escape($0.coding))\",\"ratio\":\($0.ratio)" } ?? "") + (e.requestID.map { ",\"request_id\":\"\(escape($0))\"" } ?? "") + "}"
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
