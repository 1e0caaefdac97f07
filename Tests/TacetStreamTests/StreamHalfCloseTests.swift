import Foundation
import NIOCore
import TacetProbe
import TacetTestSupport
import Testing

/// FINs on real sockets: each is passed on in its own direction, the other stays open.
@Suite(.serialized) struct StreamHalfCloseTests {
    static let body = [UInt8](repeating: UInt8(ascii: "x"), count: 100 * 1024)

    /// A backend that reads to EOF, waits `delay` (the behaviour under test), answers, then FINs.
    static func countingBackend(delay: Double) throws -> TestServer<PeerEnd> {
        try TestServer(timeout: 30) { socket in
            let (bytes, end) = socket.readToEnd()
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            socket.write("got \(bytes.count) bytes")
            socket.shutdownWrite()
            return end
        }
    }

    @Test(arguments: [0.0, 1.0])
    func clientFINThenBackendAnswers(delay: Double) async throws {
        let backend = try Self.countingBackend(delay: delay)
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write(Self.body)
            try client.shutdownWrite()
            let reply = await client.readToEnd(timeout: 30)
            #expect(String(decoding: reply.bytes, as: UTF8.self) == "got 102400 bytes")
            #expect(reply.end == .fin)
            #expect(try await backend.result() == .fin)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "client_fin")
            #expect(log["end"] == "clean")
            #expect(log["bytes_up"] == "102400")
            #expect(log["bytes_down"] == "16")
        }
    }

    @Test func backendFINFirstClientKeepsSending() async throws {
        let backend = try TestServer(timeout: 30) { socket -> (String, PeerEnd) in
            socket.write("hello")
            socket.shutdownWrite()
            let (bytes, end) = socket.readToEnd()
            return (String(decoding: bytes, as: UTF8.self), end)
        }
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            let greeting = await client.readToEnd(timeout: 30)
            #expect(String(decoding: greeting.bytes, as: UTF8.self) == "hello")
            #expect(greeting.end == .fin)
            // The backend's FIN closed one direction only: the client may still send.
            try await client.write("still talking")
            try client.shutdownWrite()
            let (received, end) = try await backend.result()
            #expect(received == "still talking")
            #expect(end == .fin)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "upstream_fin")
            #expect(log["end"] == "clean")
            #expect(log["bytes_up"] == "13" && log["bytes_down"] == "5")
        }
    }

    @Test func halfCloseTimeoutResetsBothSides() async throws {
        let release = DispatchSemaphore(value: 0)
        let backend = try TestServer(timeout: 30) { socket -> PeerEnd in
            let (_, end) = socket.readToEnd()
            // Never answers; holds its side open until the test has seen the proxy give up.
            _ = release.wait(timeout: .now() + 30)
            return end
        }
        let proxy = try await StreamFixture(servers: [backend.port], halfCloseTimeout: .milliseconds(200))
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("question")
            try client.shutdownWrite()
            // A FIN here would tell the client the (missing) answer was complete.
            #expect(await client.readToEnd(timeout: 30).end == .rst)
            release.signal()
            #expect(try await backend.result() == .fin)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "client_fin")
            #expect(log["end"] == "timeout")
        }
    }
}
