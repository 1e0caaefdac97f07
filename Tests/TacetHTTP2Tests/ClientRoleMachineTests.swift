import NIOCore
import NIOHPACK
import Testing
@testable import TacetHTTP2

/// The connection machine in the client role (issue #22), on bytes: streams opened by us up to
/// the server's SETTINGS_MAX_CONCURRENT_STREAMS (100 when it announces none), response heads
/// with 1xx before them and trailers after, and what a hostile upstream may not do.
@Suite("HTTP/2: client role")
struct ClientRoleMachineTests {
    typealias Machine = HTTP2ConnectionStateMachine
    typealias T = ConnectionStateMachineTests

    static func response(_ status: String, _ extra: [(String, String)] = []) -> ByteBuffer {
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var out = ByteBuffer()
        try? encoder.encode(headers: HPACKHeaders([(":status", status)] + extra), to: &out)
        return out
    }

    /// A client machine whose server's first SETTINGS carried `parameters`.
    static func opened(_ parameters: [(SettingsFrame.Parameter, UInt32)] = []) -> Machine {
        var configuration = Machine.Configuration()
        configuration.role = .client
        var machine = Machine(configuration: configuration)
        #expect(!machine.mayOpenStream, "no stream before the server's SETTINGS")
        #expect(T.steps(&machine, T.settings(parameters)) == [.settings(windowGrew: false)])
        return machine
    }

    @Test("The opening is the preface, then SETTINGS with push off")
    func opening() {
        var configuration = Machine.Configuration()
        configuration.role = .client
        var out = ByteBuffer()
        Machine(configuration: configuration).writeOpening(into: &out)
        #expect(out.readBytes(length: 24) == ConnectionPreface.bytes)
        #expect(out.getInteger(at: out.readerIndex + 3, as: UInt8.self) == 0x4)  // SETTINGS
    }

    @Test("Streams are odd, opened up to the announced limit, and 100 when none is announced")
    func streamLimit() {
        var machine = Self.opened([(.maxConcurrentStreams, 2)])
        #expect(machine.openStream() == 1)
        #expect(machine.openStream() == 3)
        #expect(machine.openStream() == nil)
        var unannounced = Self.opened()
        for _ in 0..<100 { #expect(unannounced.openStream() != nil) }
        #expect(unannounced.openStream() == nil)
    }

    @Test("A 1xx, the final head, DATA, then trailers: each its step, the stream closed remotely at the end")
    func responseSequence() {
        var machine = Self.opened()
        let id = machine.openStream() ?? 0
        machine.endSent(id)
        let steps = T.steps(&machine, T.headers(id, endStream: false, block: Self.response("103")),
                            T.headers(id, endStream: false, block: Self.response("200")), T.data(id, 5),
                            T.headers(id, endStream: true, block: Self.trailerBlock()))
        #expect(steps.count == 4, "\(steps)")
        if case .head(_, let interim, false) = steps[0] { #expect(interim.first(name: ":status") == "103") } else { Issue.record("\(steps[0])") }
        if case .head(_, let head, false) = steps[1] { #expect(head.first(name: ":status") == "200") } else { Issue.record("\(steps[1])") }
        if case .data(_, let data, false) = steps[2] { #expect(data.readableBytes == 5) } else { Issue.record("\(steps[2])") }
        if case .trailers(_, let trailers) = steps[3] { #expect(trailers.first(name: "grpc-status") == "0") } else { Issue.record("\(steps[3])") }
        #expect(!machine.isOpen(id), "both ends closed")
    }

    static func trailerBlock() -> ByteBuffer {
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var out = ByteBuffer()
        try? encoder.encode(headers: HPACKHeaders([("grpc-status", "0")]), to: &out)
        return out
    }

    @Test("DATA before the head, trailers without END_STREAM, a 1xx with END_STREAM: stream errors")
    func streamErrors() {
        var machine = Self.opened()
        let a = machine.openStream() ?? 0
        #expect(T.streamCode(T.steps(&machine, T.data(a, 3))) == .protocolError)
        let b = machine.openStream() ?? 0
        _ = T.steps(&machine, T.headers(b, endStream: false, block: Self.response("200")))
        #expect(T.streamCode(T.steps(&machine, T.headers(b, endStream: false, block: Self.trailerBlock()))) == .protocolError)
        let c = machine.openStream() ?? 0
        #expect(T.streamCode(T.steps(&machine, T.headers(c, endStream: true, block: Self.response("100")))) == .protocolError)
    }

    @Test("HEADERS on a stream we never opened, PUSH_PROMISE: connection errors")
    func connectionErrors() {
        var machine = Self.opened()
        #expect(T.code(T.steps(&machine, T.headers(7, block: Self.response("200")))) == .protocolError)
        var pushed = Self.opened()
        _ = pushed.openStream()
        #expect(T.code(T.steps(&pushed, T.raw(type: 0x5, flags: 0x4, stream: 1, payload: [0, 0, 0, 2]))) == .protocolError)
    }

    @Test("After the server's GOAWAY no stream opens")
    func goAway() {
        var machine = Self.opened()
        _ = machine.openStream()
        let steps = T.steps(&machine, T.raw(type: 0x7, stream: 0, payload: [0, 0, 0, 1, 0, 0, 0, 0]))
        #expect(steps == [.goAway(lastStream: 1, .noError)])
        #expect(!machine.mayOpenStream)
    }
}
