import NIOCore
import Testing
@testable import TacetStream

@Suite struct StreamLogRecordTests {
    @Test func logRecordMetadata() {
        var record = StreamLogRecord(listen: "127.0.0.1:1", client: try? SocketAddress(ipAddress: "::1", port: 2))
        record.bytesUp = 10
        record.duration = .microseconds(1_002_417)
        record.firstClose = "client_fin"
        record.end = "clean"
        #expect(record.metadata["duration_ms"] == "1002.417")
        #expect(record.metadata["upstream"] == "-")
        #expect(record.metadata["client"] == "[::1]:2")
        #expect(StreamLogRecord.milliseconds(.microseconds(5)) == "0.005")
    }
}
