import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetConfig
import TacetProbe
import TacetServer
import TacetTestSupport
import Testing

/// nginx's `auth_basic` with an htpasswd file, from a config file on real sockets: 401 with the
/// realm, bcrypt and SHA-crypt users let in, the Authorization field kept from the upstream
/// unless `pass`, a half-closed client answered while its password is checked, HTTP/2 alike,
/// and a reload that re-reads the file.
@Suite("Basic authentication: htpasswd users, 401, Authorization not passed on")
struct BasicAuthTests {
    // Made by `htpasswd -nbB -C 4` and `openssl passwd -5`.
    static let htpasswd = """
        # the team
        alice:$2y$04$EcaM16eqlmFBG.J7bx5lK.3rYqyJtb9KwMFLYNlcV7Wy1cm4BbIHO
        sha:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5

        """

    static func basic(_ user: String, _ password: String) -> String {
        "Authorization: Basic \(Data("\(user):\(password)".utf8).base64EncodedString())\r\n"
    }

    static func config(directory: String, backend: Int) -> String {
        """
        listen: [{ address: "127.0.0.1:0", http2: true }]
        access_log: off
        upstreams:
          app: { servers: ["127.0.0.1:\(backend)"] }
        routes:
          - match: { path: /files/ }
            respond: { status: 200, body: "the files" }
            auth: { basic: { realm: files, users: ./htpasswd } }
          - match: { path: /api/ }
            proxy: { upstream: app }
            auth: { basic: { users: ./htpasswd } }
          - match: { path: /passed/ }
            proxy: { upstream: app }
            auth: { basic: { users: ./htpasswd, pass: true } }
        """
    }

    static func withServer(_ body: (Int, ScriptedBackend, String, TacetServer) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "tacet-basic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try htpasswd.write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
        let backend = try await ScriptedBackend("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nupstream")
        try await whileRunning(backend) {
            try await ConfiguredServer.run(yaml: config(directory: directory, backend: backend.port),
                                           file: directory + "/tacet.yaml", baseDirectory: directory) { port, server in
                try await body(port, backend, directory, server)
            }
        }
    }

    static func fetch(_ port: Int, _ path: String, _ fields: String = "", halfClose: Bool = false) async throws -> ParsedResponse {
        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
        defer { client.close() }
        try await client.send("GET \(path) HTTP/1.1\r\nHost: t\r\n\(fields)Connection: close\r\n\r\n")
        if halfClose { try client.shutdownWrite() }
        return try #require(await client.readToEnd(timeout: 10).responses().finalResponses.first)
    }

    @Test("HTTP/1.1: challenged, refused, let in; the upstream never sees the password unless pass")
    func http1() async throws {
        try await Self.withServer { port, backend, _, _ in
            let none = try await Self.fetch(port, "/files/a")
            #expect(none.status == 401)
            #expect(none.header("www-authenticate") == "Basic realm=\"files\", charset=\"UTF-8\"")
            let wrong = try await Self.fetch(port, "/files/a", Self.basic("alice", "wrong"))
            #expect(wrong.status == 401)
            let unknown = try await Self.fetch(port, "/files/a", Self.basic("mallory", "correct horse"))
            #expect(unknown.status == 401)
            let alice = try await Self.fetch(port, "/files/a", Self.basic("alice", "correct horse"))
            #expect(alice.status == 200 && alice.bodyString == "the files")
            let long = try await Self.fetch(port, "/files/a", Self.basic("alice", String(repeating: "p", count: 300)))
            #expect(long.status == 401, "a password over 256 bytes is refused unchecked")
            let again = try await Self.fetch(port, "/files/b", Self.basic("alice", "correct horse"))
            #expect(again.status == 200, "the checked credential, from the cache")
            let sha = try await Self.fetch(port, "/files/a", Self.basic("sha", "Hello world!"))
            #expect(sha.status == 200)
            let halfClosed = try await Self.fetch(port, "/api/x", Self.basic("alice", "correct horse"), halfClose: true)
            #expect(halfClosed.status == 200 && halfClosed.bodyString == "upstream", "a FIN while the password is checked is not an abort")
            #expect(backend.heads.last.map { !$0.lowercased().contains("authorization") } == true)
            let passed = try await Self.fetch(port, "/passed/x", Self.basic("sha", "Hello world!"))
            #expect(passed.status == 200)
            #expect(backend.heads.last?.contains("Authorization: Basic ") == true)
            #expect(backend.requests.count == 2, "refused requests never reached the upstream")
        }
    }

    @Test("HTTP/2: the same on streams, each stream checked on its own")
    func http2() async throws {
        try await Self.withServer { port, _, _, _ in
            let client = try await HTTP2TestClient.connect(port: port)
            let good = "Basic " + Data("alice:correct horse".utf8).base64EncodedString()
            let bad = "Basic " + Data("alice:nope".utf8).base64EncodedString()
            try await client.request(1, "/files/x", extra: [("authorization", good)])
            try await client.request(3, "/files/x", extra: [("authorization", bad)])
            try await client.request(5, "/files/x")
            #expect(await client.waitForEnd(1).body == "the files")
            #expect(await client.waitForEnd(3).status == 401)
            let challenged = await client.waitForEnd(5)
            #expect(challenged.status == 401 && challenged.headerBlocks.first?.first(name: "www-authenticate") != nil)
            await client.close()
        }
    }

    @Test("A reload re-reads the htpasswd file: a user added is let in, one removed is not")
    func reloadRereadsTheFile() async throws {
        try await Self.withServer { port, backend, directory, server in
            #expect(try await Self.fetch(port, "/files/a", Self.basic("alice", "correct horse")).status == 200)
            // bob (htpasswd -nbB -C 4 bob 'pässwörd €') replaces alice.
            try "bob:$2y$04$/yc2A1X4IVzRwWf2o7VLoOeg6Jn4yIPbaJVMseY3Vl1.d1T8uiK8u\n"
                .write(toFile: directory + "/htpasswd", atomically: true, encoding: .utf8)
            let next = try ConfigLoader.parse(yaml: Self.config(directory: directory, backend: backend.port),
                                              file: directory + "/tacet.yaml", baseDirectory: directory)
            _ = try await server.reload(configuration: next)
            let bob = try await Self.fetch(port, "/files/a", Self.basic("bob", "pässwörd €"))
            let alice = try await Self.fetch(port, "/files/a", Self.basic("alice", "correct horse"))
            #expect(bob.status == 200 && alice.status == 401)
        }
    }
}
