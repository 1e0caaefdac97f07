/// The probe's own origin: an HTTP server and a TCP service that record, per scenario tag, what
/// reached them and how the proxy in front ended each connection. Run by `tacet probe origin`
/// (queried over HTTP at `/_tacet/seen`) or in the probe's process (`--origin`).
public final class ProbeOrigin: @unchecked Sendable {
    public let recorder = OriginRecorder()
    public let host: String
    public let httpPort: Int
    public let tcpPort: Int
    private let http: OriginListener
    private let tcp: OriginListener

    /// Listens on `host:httpPort` and `host:tcpPort` (port 0: any free port; a nil TCP port is
    /// the HTTP port + 1, or any free port when that is 0).
    public init(host: String, httpPort: Int, tcpPort: Int? = nil) throws {
        self.host = host
        http = try OriginListener(host: host, port: httpPort)
        let wanted = tcpPort ?? (httpPort == 0 ? 0 : httpPort + 1)
        do { tcp = try OriginListener(host: host, port: wanted) } catch {
            http.close()
            throw error
        }
        self.httpPort = http.port
        self.tcpPort = tcp.port
        let recorder = self.recorder
        http.run { socket in
            var session = OriginHTTPSession(socket: socket, recorder: recorder)
            session.run()
        }
        tcp.run { socket in OriginTCPSession(socket: socket, recorder: recorder).run() }
    }

    public func stop() {
        http.stop()
        tcp.stop()
    }
}
