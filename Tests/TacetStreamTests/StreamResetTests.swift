import Foundation
import NIOCore
import TacetProbe
import TacetTestSupport
import Testing

/// RSTs on real sockets become RSTs on the other side, never FINs; failed connects reset the client.
@Suite(.serialized) struct StreamResetTests {
    @Test func clientRSTBecomesUpstreamRST() async throws {
        let backend = try TestServer(timeout: 30) { socket -> ([UInt8], PeerEnd) in socket.readToEnd() }
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("abc")
            client.reset()
            let (_, end) = try await backend.result()
            #expect(end == .rst)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "client_rst")
            #expect(log["end"] == "reset")
        }
    }

    @Test func clientRSTAfterItsFINStillBecomesRST() async throws {
        let backend = try TestServer(timeout: 30) { socket -> PeerEnd in
            _ = socket.read(count: 3)
            // The client's FIN arrives (read returns 0), then its RST: the backend must see the RST.
            let (_, first) = socket.readToEnd()
            guard first == .fin else { return first }
            // Keep writing until the reset shows up as a failed write (socket buffers absorb the
            // first megabytes; then the writes block on backpressure until the RST arrives).
            let chunk = [UInt8](repeating: 0, count: 64 * 1024)
            for _ in 0..<16_384 where !socket.write(chunk) {
                return .rst
            }
            return .timeout
        }
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("abc")
            try client.shutdownWrite()
            _ = await client.read(until: { !$0.isEmpty }, timeout: 30)
            client.reset()
            #expect(try await backend.result() == .rst)
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "client_fin")
            #expect(log["end"] == "reset")
        }
    }

    @Test func upstreamRSTBecomesClientRST() async throws {
        let backend = try TestServer(timeout: 30) { socket -> [UInt8] in
            let bytes = socket.read(count: 5)
            socket.write("partial")
            socket.reset()
            return bytes
        }
        let proxy = try await StreamFixture(servers: [backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("hello")
            let result = await client.readToEnd(timeout: 30)
            #expect(result.end == .rst)
            #expect(try await backend.result() == Array("hello".utf8))
            let log = try await proxy.logs.streamClosed()
            #expect(log["first_close"] == "upstream_rst")
            #expect(log["end"] == "reset")
        }
    }

    @Test func connectFailureTriesTheNextServer() async throws {
        let backend = try TestServer(timeout: 30) { socket -> PeerEnd in
            let (bytes, end) = socket.readToEnd()
            socket.write("got \(bytes.count) bytes")
            return end
        }
        let proxy = try await StreamFixture(servers: [refusingPort(), backend.port])
        try await whileRunning(proxy) {
            let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
            try await client.write("four")
            try client.shutdownWrite()
            let reply = await client.readToEnd(timeout: 30)
            #expect(String(decoding: reply.bytes, as: UTF8.self) == "got 4 bytes")
            #expect(reply.end == .fin)
            #expect(try await backend.result() == .fin)
            let log = try await proxy.logs.streamClosed()
            #expect(log["upstream"] == "127.0.0.1:\(backend.port)")
            #expect(proxy.logs.all.contains { $0.message == "stream upstream connect failed" })
        }
    }

    @Test func noServerReachableResetsTheClient() async throws {
        let proxy = try await StreamFixture(servers: [refusingPort(), refusingPort()])
        try await whileRunning(proxy) {
            // The reset can be so quick that it already ends the client's connect().
            do {
                let client = try await OffPoolClient.connect(host: "127.0.0.1", port: proxy.port)
                try? await client.write("anyone?")
                #expect(await client.readToEnd(timeout: 30).end == .rst)
            } catch let error as RawClientError {
                #expect(error.errno == ECONNRESET, "\(error)")
            }
            let log = try await proxy.logs.streamClosed()
            #expect(log["end"] == "connect_failed")
            #expect(log["upstream"] == "-")
            #expect(proxy.logs.all.filter { $0.message == "stream upstream connect failed" }.count == 2)
        }
    }
}
