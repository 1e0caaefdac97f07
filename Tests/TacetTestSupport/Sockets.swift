#if canImport(Glibc)
import Glibc
#endif

/// Binds `fd` to loopback: 127.0.0.1 or ::1.
public func bindLoopback(_ fd: Int32, ipv6: Bool = false, port: UInt16) -> Int32 {
    if ipv6 {
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_port = port.bigEndian
        addr.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
    }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
}

/// The local port `fd` is bound to (IPv4 or IPv6).
public func boundPort(_ fd: Int32) -> Int {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    let family = Int32(storage.ss_family)
    return withUnsafePointer(to: &storage) { raw in
        family == AF_INET6
            ? raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            : raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
    }
}

/// A listening TCP socket on loopback, on an ephemeral port (SO_REUSEADDR set).
public func listenLoopback(ipv6: Bool = false, backlog: Int32 = 8) throws -> (fd: Int32, port: Int) {
    let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed: \(errno)") }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    guard bindLoopback(fd, ipv6: ipv6, port: 0) == 0, listen(fd, backlog) == 0 else {
        let code = errno
        Glibc.close(fd)
        throw TestFailure("bind/listen failed: \(code)")
    }
    return (fd, boundPort(fd))
}

/// A port on 127.0.0.1 that nothing listens on: bound (so the kernel picked it), then closed.
public func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    _ = bindLoopback(fd, port: 0)
    return boundPort(fd)
}

/// A loopback port that refuses connections for the rest of the test process: bound, never
/// listening, and held, so no other test's listener can take it (a port merely unused when
/// asked can be, with tests running in parallel).
public func refusingPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    _ = bindLoopback(fd, port: 0)
    return boundPort(fd)  // fd deliberately kept open
}

/// Whether `needle` occurs in `haystack` (an empty needle always does).
public func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    for i in 0...(haystack.count - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
    return false
}
