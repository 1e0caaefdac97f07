import Foundation
import NIOConcurrencyHelpers
import TacetProbe
import TacetTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Scale-out on an existing balancer: HAProxy in `mode tcp` with `send-proxy-v2` in front of two
/// `tacet serve` processes on loopback. The client's address (127.0.0.2 here, the balancer being
/// 127.0.0.1) is the one both instances log; a client that half-closes is answered through the
/// balancer; one instance drained with SIGTERM while requests keep coming: none is lost (the
/// balancer checks each instance's `/ready`, which turns 503 at SIGTERM, and the instance keeps
/// accepting for its `shutdown_delay` before its listener closes).
/// Skipped, saying so, when HAProxy is not installed (.ci/run installs it).
@Suite("Scale-out behind HAProxy (mode tcp, PROXY v2)", .serialized)
struct HAProxyScaleOutTests {
    static let binary: String? = ["/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// An instance with its admin listener on `adminPort` (the balancer checks `/ready` there) and
    /// a 1 s `shutdown_delay`: on SIGTERM it stays up, not ready, while the balancer's checks
    /// take it out, then drains.
    static func instance(_ name: String, adminPort: Int, directory: String) async throws -> (RunningTacet, String) {
        let log = directory + "/\(name).access.log"
        let config = directory + "/\(name).yaml"
        try """
            listen:
              - { address: "127.0.0.1:0", proxy_protocol: true }
            admin: { listen: "127.0.0.1:\(adminPort)" }
            trusted_proxies: ["127.0.0.1/32"]
            access_log: \(log)
            shutdown_timeout: 10s
            shutdown_delay: 1s
            routes:
              - match: { path: / }
                respond: { status: 200, body: "from \(name)\\n" }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return (try await RunningTacet.start(config: config), log)
    }

    /// A request from 127.0.0.2, optionally followed by SHUT_WR; the response text and whether
    /// the connection then ended with a FIN.
    static func request(port: Int, halfClose: Bool) -> (text: String, fin: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr("127.0.0.2")
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        let connected = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, connected == 0 else { return ("", false) }
        let request = Array("GET / HTTP/1.1\r\nHost: t\r\n\(halfClose ? "" : "Connection: close\r\n")\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return ("", false) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { bytes += buffer[0..<n]; continue }
            return (String(decoding: bytes, as: UTF8.self), n == 0)
        }
    }

    @Test func balancedDrainedAndAddressed() async throws {
        guard let binary = Self.binary else {
            print("skipping HAProxy tests: haproxy is not installed (.ci/run installs it with apt-get install -y haproxy)")
            return
        }
        let directory = NSTemporaryDirectory() + "tacet-haproxy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let adminA = unusedPort(), adminB = unusedPort()
        let (a, logA) = try await Self.instance("a", adminPort: adminA, directory: directory)
        let (b, logB) = try await Self.instance("b", adminPort: adminB, directory: directory)
        let port = unusedPort()
        let config = directory + "/haproxy.cfg"
        try """
            global
                maxconn 256
                # HAProxy binds with SO_REUSEPORT by default: on a port another test's stream
                # listener (SO_REUSEPORT too) was given meanwhile, both would take its connections.
                noreuseport
            defaults
                mode tcp
                timeout connect 2s
                timeout client 10s
                timeout server 10s
                retries 3
                option redispatch
            frontend front
                bind 127.0.0.1:\(port)
                default_backend tacets
            backend tacets
                balance roundrobin
                option httpchk GET /ready
                default-server inter 100ms fall 1 rise 1
                server a 127.0.0.1:\(a.port) send-proxy-v2 check port \(adminA)
                server b 127.0.0.1:\(b.port) send-proxy-v2 check port \(adminB)

            """.write(toFile: config, atomically: true, encoding: .utf8)
        let haproxy = TestProcess()
        haproxy.executableURL = URL(fileURLWithPath: binary)
        haproxy.arguments = ["-f", config, "-db"]
        haproxy.standardOutput = FileHandle.nullDevice
        let errors = directory + "/haproxy.stderr"
        _ = FileManager.default.createFile(atPath: errors, contents: nil)
        haproxy.standardError = FileHandle(forWritingAtPath: errors)
        try haproxy.run()
        defer { if haproxy.isRunning { haproxy.terminate() } }
        let up = await eventually { (try? RawClient.connect(host: "127.0.0.1", port: port, timeout: 1)) != nil }
        #expect(up, "haproxy: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
        guard up else { return }

        // Both instances answer, and log the client's address, not the balancer's.
        var answers: [String] = []
        for _ in 0..<4 { answers.append(await blocking { Self.request(port: port, halfClose: false).text }) }
        #expect(answers.contains { $0.hasSuffix("from a\n") } && answers.contains { $0.hasSuffix("from b\n") }, "\(answers)")
        for log in [logA, logB] {
            #expect(await eventually { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").hasPrefix("127.0.0.2 - - [") })
        }

        // A half-closed client is answered through the balancer, then gets a FIN.
        let halfClosed = await blocking { Self.request(port: port, halfClose: true) }
        #expect(halfClosed.text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(halfClosed.text)")
        #expect(halfClosed.fin)

        // Requests keep coming while instance a drains and exits: every one answered.
        // Four clients at once, each request on a new connection through the balancer, from before
        // instance a is stopped until well after it has exited.
        let results = NIOLockedValueBox<[String]>([])
        let stop = NIOLockedValueBox(false)
        // Threads of their own: blocking loops on the cooperative pool (two threads on this
        // machine) would starve the test's own task.
        let finished = DispatchGroup()
        for _ in 0..<4 {
            finished.enter()
            Thread {
                while !stop.withLockedValue({ $0 }) {
                    let text = Self.request(port: port, halfClose: false).text
                    results.withLockedValue { $0.append(text) }
                }
                finished.leave()
            }.start()
        }
        #expect(await eventually { results.withLockedValue { $0.count } >= 50 })
        let beforeStop = results.withLockedValue { $0.count }
        #expect(await a.terminate() == 0)
        let atExit = results.withLockedValue { $0.count }
        #expect(await eventually { results.withLockedValue { $0.count } >= atExit + 100 })
        stop.withLockedValue { $0 = true }
        await blocking { finished.wait() }
        let all = results.withLockedValue { $0 }
        #expect(atExit > beforeStop, "requests kept coming while a drained")
        #expect(all.allSatisfy { $0.hasPrefix("HTTP/1.1 200 OK\r\n") }, "\(all.filter { !$0.hasPrefix("HTTP/1.1 200") })")
        // After a's exit, b takes everything.
        for _ in 0..<5 { #expect(await blocking { Self.request(port: port, halfClose: false).text }.hasSuffix("from b\n")) }
        _ = await b.terminate()
    }
}
