#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the raw client, with a one-line description fit for a CLI error message.
public struct RawClientError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable, Equatable {
        case resolve, refused, connectTimeout, connect
        case peerReset, brokenPipe, writeTimeout, io, notConnected, invalidArgument
    }

    public var kind: Kind
    public var message: String
    /// The errno behind the failure, when there was one.
    public var errno: Int32?
    /// For write failures: how many bytes send(2) accepted before the failure.
    public var bytesWritten: Int

    public init(kind: Kind, message: String, errno: Int32? = nil, bytesWritten: Int = 0) {
        self.kind = kind
        self.message = message
        self.errno = errno
        self.bytesWritten = bytesWritten
    }

    public var description: String { message }
    /// The peer reset the connection (ECONNRESET, or an RST seen while writing).
    public var isPeerReset: Bool { kind == .peerReset }
    /// A write after the connection was gone (EPIPE): typically after the peer's RST.
    public var isBrokenPipe: Bool { kind == .brokenPipe }
}

/// The symbolic name of an errno, for timelines that must say exactly what the kernel said.
func errnoName(_ code: Int32) -> String {
    switch code {
    case EPIPE: return "EPIPE"
    case ECONNRESET: return "ECONNRESET"
    case ECONNREFUSED: return "ECONNREFUSED"
    case ETIMEDOUT: return "ETIMEDOUT"
    case EHOSTUNREACH: return "EHOSTUNREACH"
    case ENETUNREACH: return "ENETUNREACH"
    case ENOTCONN: return "ENOTCONN"
    case EBADF: return "EBADF"
    default: return "errno \(code) (\(String(cString: strerror(code))))"
    }
}
