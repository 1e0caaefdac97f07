import Foundation
@testable import TacetProbe
import TacetTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx proxying 127.0.0.1 to a backend, run from a temp dir with its own config, pid and
/// logs, so a test can check what the probe says about nginx's half-close handling.
final class NginxFixture {
    /// The nginx binary, or nil when it is not installed (the tests then skip, saying so).
    static let binary: String? = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    static let skipReason = "nginx is not installed (.ci/run installs it with apt-get install -y nginx)"

    /// True when nginx is here; prints why not otherwise, so a skip is never silent.
    static var isAvailable: Bool {
        if binary == nil { print("skipping nginx tests: \(skipReason)") }
        return binary != nil
    }

    let port: Int
    let directory: URL
    private let process: TestProcess

    /// nginx's stream module, when Debian ships it as a dynamic module (libnginx-mod-stream).
    static let streamModule: String? = ["/usr/lib/nginx/modules/ngx_stream_module.so", "/usr/share/nginx/modules/ngx_stream_module.so"]
        .first { FileManager.default.fileExists(atPath: $0) }

    convenience init(backendPort: Int, ignoreClientAbort: Bool) throws {
        try self.init { port, dir in
            """
            http {
                access_log \(dir)/access.log;
                client_body_temp_path \(dir)/body;
                proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi;
                uwsgi_temp_path \(dir)/uwsgi;
                scgi_temp_path \(dir)/scgi;
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://127.0.0.1:\(backendPort);
                        proxy_ignore_client_abort \(ignoreClientAbort ? "on" : "off");
                    }
                }
            }
            """
        }
    }

    /// An nginx with the `http { }` or `stream { }` blocks `blocks(port, directory)` returns
    /// (the stream module is loaded when they use it).
    init(blocks: (Int, String) -> String) throws {
        guard let binary = Self.binary else { throw TestFailure(Self.skipReason) }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tacet-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // nginx cannot listen on port 0: take a port the kernel just handed out and freed.
        port = unusedPort()
        let dir = directory.path
        let body = blocks(port, dir)
        let module = body.contains("stream {") ? Self.streamModule.map { "load_module \($0);" } ?? "" : ""
        let config = """
            \(module)
            \(geteuid() == 0 ? "user root;" : "")
            worker_processes 1;
            error_log \(dir)/error.log info;
            pid \(dir)/nginx.pid;
            events { worker_connections 64; }
            \(body)
            """
        let configPath = directory.appendingPathComponent("nginx.conf")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        let log = directory.appendingPathComponent("stderr.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process = TestProcess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-c", configPath.path, "-p", dir + "/", "-g", "daemon off;"]
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        guard !waitUntilListening(port: port, process: process) else { return }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
        stop()
        throw TestFailure("nginx did not start listening on \(port): \(output) \(errors)")
    }

    /// The access log: nginx's own account (499 = client closed the request).
    var accessLog: String {
        (try? String(contentsOf: directory.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
    }

    /// Stops the nginx this fixture started (SIGTERM: fast shutdown), and removes its directory.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A backend that answers after about a second, unless its client (nginx) gives up first:
/// then it records that the request was abandoned.
final class SlowBackend: @unchecked Sendable {
    enum Event: Equatable, Sendable { case answered, abandoned }

    /// Shared with handler threads that may outlive a test's last look, hence its own object.
    private final class Recorder: @unchecked Sendable {
        let lock = NSLock()
        var events: [Event] = []
        func add(_ event: Event) { lock.withLock { events.append(event) } }
    }

    private let recorder = Recorder()
    private let server: MultiServer

    var port: Int { server.port }
    var events: [Event] { recorder.lock.withLock { recorder.events } }

    init() throws {
        server = try MultiServer { [recorder] socket in
            let head = socket.read(until: "\r\n\r\n")
            guard contains(head, Array("\r\n\r\n".utf8)) else { return }
            // The second of "work": nginx closing its upstream connection meanwhile is an abandon.
            if socket.waitForClient(ms: 1000) != nil {
                recorder.add(.abandoned)
                return
            }
            socket.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n")
            recorder.add(.answered)
        }
    }

    func stop() { server.stop() }
}
