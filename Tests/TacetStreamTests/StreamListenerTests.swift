import Foundation
import Logging
import NIOCore
import NIOPosix
import TacetProbe
import TacetStream
import TacetTestSupport
import TacetUpstream
import Testing

/// The listener: one bound socket, accepted on every event loop.
@Suite(.serialized) struct StreamListenerTests {
    /// Many streams at once through two event loops (each loop accepts for itself and keeps its
    /// streams): every one is answered in full, then FINned, and logged as clean.
    @Test func concurrentStreamsOnTwoLoops() async throws {
        let count = 64
        // Every connection on its own thread: read to EOF, answer `got ` + what it read, FIN.
        let backend = try MultiServer(timeout: 30) { socket in
            let (bytes, _) = socket.readToEnd()
            socket.write("got " + String(decoding: bytes, as: UTF8.self))
            socket.shutdownWrite()
            _ = socket.readToEnd()
        }
        let proxy = try await StreamFixture(servers: [backend.port], threads: 2)
        try await whileRunning(proxy, backend) {
            let port = proxy.port
            let replies = try await withThrowingTaskGroup(of: (String, StreamEnd).self) { tasks in
                for i in 0..<count {
                    tasks.addTask {
                        let client = try await OffPoolClient.connect(host: "127.0.0.1", port: port)
                        try await client.write("ping \(i)")
                        try client.shutdownWrite()
                        let reply = await client.readToEnd(timeout: 30)
                        return (String(decoding: reply.bytes, as: UTF8.self), reply.end)
                    }
                }
                var all: [(String, StreamEnd)] = []
                for try await reply in tasks { all.append(reply) }
                return all
            }
            #expect(replies.count == count)
            #expect(Set(replies.map(\.0)) == Set((0..<count).map { "got ping \($0)" }))
            #expect(replies.allSatisfy { $0.1 == .fin })
            // The log lines come after the clients saw their FINs; wait for all of them.
            let logs = proxy.logs
            _ = await eventually(timeout: 30) { logs.all.filter { $0.message == "stream closed" }.count >= count }
            let lines = proxy.logs.all.filter { $0.message == "stream closed" }
            #expect(lines.count == count)
            #expect(lines.allSatisfy { $0.metadata["end"] == "clean" })
        }
    }

    /// A port in use is an error (the socket is bound once, without SO_REUSEPORT), and after
    /// `stop` the port is free again (every loop's descriptor was closed).
    @Test func portInUseFailsAndStopFreesThePort() async throws {
        let first = try await StreamFixture(servers: [refusingPort()], threads: 2)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let settings = StreamSettings(host: "127.0.0.1", port: first.port,
                                      group: StreamSettings.singleServer(host: "127.0.0.1", port: 1))
        let second = StreamListener(group: group, settings: settings, logger: Logger(label: "test"))
        await #expect(throws: IOError.self) { _ = try await second.start() }
        await first.stop()
        let again = StreamListener(group: group, settings: settings, logger: Logger(label: "test"))
        let address = try await again.start()
        #expect(address.port == settings.port)
        await again.stop()
        try await group.shutdownGracefully()
    }
}
