import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain sockets bound by hand: the stream listener's SO_REUSEPORT sockets, and the probe that
/// tells whether an address can be bound at all (the listener before it shares a port, and
/// `tacet check` for every address a config names).
public enum BoundSocket {
    /// Binds a plain socket (SO_REUSEADDR, no SO_REUSEPORT) to `address` and closes it: throws
    /// when the address is in use or cannot be bound, and returns the port bound (the one
    /// picked, for port 0).
    public static func probe(_ address: SocketAddress, description: String) throws -> Int {
        let fd = try make(address, reusePort: false, description: description)
        defer { close(fd) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw IOError(errnoCode: errno, reason: "getsockname(\(description))") }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// A TCP socket with SO_REUSEADDR (and SO_REUSEPORT if asked), bound to `address`.
    static func make(_ address: SocketAddress, reusePort: Bool, description: String) throws -> Int32 {
        let domain: Int32 = address.protocol == .inet6 ? AF_INET6 : AF_INET
        #if canImport(Glibc)
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        let type = SOCK_STREAM
        #endif
        let fd = socket(domain, type, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        let failed: (String) -> IOError = { call in
            let code = errno
            close(fd)
            return IOError(errnoCode: code, reason: call)
        }
        let size = socklen_t(MemoryLayout<Int32>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0 else {
            throw failed("setsockopt(SO_REUSEADDR)")
        }
        if reusePort, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, size) != 0 {
            throw failed("setsockopt(SO_REUSEPORT)")
        }
        let rc = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard rc == 0 else { throw failed("bind(\(description))") }
        return fd
    }
}
