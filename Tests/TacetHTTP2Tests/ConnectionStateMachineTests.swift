import NIOCore
import NIOHPACK
import Testing
@testable import TacetHTTP2

/// The connection machine on bytes, no channel: the preface and first SETTINGS, stream states
/// (RFC 9113 §5.1), flow control both ways (§6.9), SETTINGS deltas, GOAWAY's last stream, and
/// the flood limits, each asserted as the step (and error code) the handler would act on.
@Suite("HTTP/2: connection machine")
struct ConnectionStateMachineTests {
    typealias Machine = HTTP2ConnectionStateMachine

    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000)

    /// A request header block (GET / http localhost), HPACK-encoded by NIOHPACK.
    static func block(_ extra: [(String, String)] = [], method: String = "GET") -> ByteBuffer {
        var encoder = HPACKEncoder(allocator: ByteBufferAllocator())
        var out = ByteBuffer()
        try? encoder.encode(headers: HPACKHeaders([(":method", method), (":scheme", "http"), (":path", "/"),
                                                  (":authority", "localhost")] + extra), to: &out)
        return out
    }

    static func raw(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8]) -> ByteBuffer {
        FrameParserTests.raw(type: type, flags: flags, stream: stream, payload: payload)
    }

    static func headers(_ stream: UInt32, endStream: Bool = true, block: ByteBuffer = block()) -> ByteBuffer {
        var out = ByteBuffer()
        FrameEncoder.headers(&out, stream: stream, block: block, endStream: endStream, maxFrameSize: 16_384)
        return out
    }

    static func data(_ stream: UInt32, _ count: Int, endStream: Bool = false) -> ByteBuffer {
        var out = ByteBuffer()
        FrameEncoder.data(&out, stream: stream, payload: ByteBuffer(repeating: 0x61, count: count), endStream: endStream)
        return out
    }

    static func windowUpdate(_ stream: UInt32, _ increment: Int) -> ByteBuffer {
        raw(type: 0x8, stream: stream, payload: [UInt8(increment >> 24 & 0x7F), UInt8(increment >> 16 & 0xFF),
                                                 UInt8(increment >> 8 & 0xFF), UInt8(increment & 0xFF)])
    }

    static func settings(_ parameters: [(SettingsFrame.Parameter, UInt32)] = []) -> ByteBuffer {
        var out = ByteBuffer()
        FrameEncoder.settings(&out, parameters)
        return out
    }

    /// A machine past the preface and the client's first SETTINGS.
    static func opened(_ configuration: Machine.Configuration = .init()) -> Machine {
        var machine = Machine(configuration: configuration)
        var bytes = ByteBuffer(bytes: ConnectionPreface.bytes)
        var s = settings()
        bytes.writeBuffer(&s)
        #expect(steps(&machine, bytes) == [.settings(windowGrew: false)])
        return machine
    }

    /// Every step the bytes make, until `.needMore`.
    static func steps(_ machine: inout Machine, _ bytes: ByteBuffer..., now: NIODeadline = now) -> [Machine.Step] {
        var buffer = ByteBuffer()
        for var part in bytes { buffer.writeBuffer(&part) }
        var out: [Machine.Step] = []
        while true {
            let step = machine.read(&buffer, now: now)
            if step == .needMore { return out }
            out.append(step)
        }
    }

    static func code(_ steps: [Machine.Step]) -> H2ErrorCode? {
        for step in steps {
            if case .connectionError(let code, _, _, _) = step { return code }
        }
        return nil
    }

    static func streamCode(_ steps: [Machine.Step]) -> H2ErrorCode? {
        for step in steps {
            if case .streamError(_, let code, _) = step { return code }
        }
        return nil
    }

    @Test("The preface: a wrong byte is PROTOCOL_ERROR at once; the first frame must be SETTINGS")
    func preface() {
        var wrong = Machine()
        #expect(Self.code(Self.steps(&wrong, ByteBuffer(string: "GET / HTTP/1.1\r\n"))) == .protocolError)
        var noSettings = Machine()
        var pingFirst = ByteBuffer(bytes: ConnectionPreface.bytes)
        FrameEncoder.ping(&pingFirst, ack: false, opaque: 1)
        #expect(Self.code(Self.steps(&noSettings, pingFirst)) == .protocolError)
        // Unread bytes stay in the buffer, as the handler keeps them for the next read.
        var split = Machine()
        var buffer = ByteBuffer(bytes: Array(ConnectionPreface.bytes.prefix(10)))
        #expect(split.read(&buffer, now: Self.now) == .needMore)
        #expect(buffer.readableBytes == 10)
        buffer.writeBytes(ConnectionPreface.bytes.dropFirst(10))
        var s = Self.settings()
        buffer.writeBuffer(&s)
        #expect(split.read(&buffer, now: Self.now) == .settings(windowGrew: false))
    }

    @Test("A request: head, body, END_STREAM; the stream closes when both ends have")
    func requestAndBody() {
        var machine = Self.opened()
        let steps = Self.steps(&machine, Self.headers(1, endStream: false), Self.data(1, 10), Self.data(1, 0, endStream: true))
        #expect(steps.count == 3)
        guard case .head(1, let headers, false) = steps[0] else { Issue.record("\(steps)"); return }
        #expect(headers.first(name: ":path") == "/")
        #expect(steps[2] == .data(stream: 1, ByteBuffer(), endStream: true))
        #expect(machine.isOpen(1))
        machine.endSent(1)
        #expect(!machine.isOpen(1))
        #expect(machine.lastStreamID == 1)
    }

    @Test("Frames on idle streams: DATA, RST_STREAM, WINDOW_UPDATE are PROTOCOL_ERROR (§5.1)")
    func idleStreams() {
        for frame in [Self.data(1, 1), Self.raw(type: 0x3, stream: 1, payload: [0, 0, 0, 8]), Self.windowUpdate(1, 1)] {
            var machine = Self.opened()
            #expect(Self.code(Self.steps(&machine, frame)) == .protocolError)
        }
    }

    @Test("Half-closed (remote): DATA and HEADERS are STREAM_CLOSED stream errors")
    func halfClosedRemote() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.headers(1))
        #expect(Self.streamCode(Self.steps(&machine, Self.data(1, 1))) == .streamClosed)
        var again = Self.opened()
        _ = Self.steps(&again, Self.headers(1))
        #expect(Self.streamCode(Self.steps(&again, Self.headers(1))) == .streamClosed)
    }

    @Test("Closed streams: after both ends HEADERS is a STREAM_CLOSED connection error; after our RST_STREAM frames are ignored")
    func closedStreams() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.headers(1))
        machine.endSent(1)
        #expect(Self.code(Self.steps(&machine, Self.headers(1))) == .streamClosed)
        var reset = Self.opened()
        _ = Self.steps(&reset, Self.headers(1, endStream: false))
        reset.resetSent(1)
        #expect(Self.steps(&reset, Self.data(1, 5), Self.windowUpdate(1, 5)) == [])
    }

    @Test("Stream identifiers: even, or lower than one opened before, are PROTOCOL_ERROR (§5.1.1)")
    func identifiers() {
        var even = Self.opened()
        #expect(Self.code(Self.steps(&even, Self.headers(2))) == .protocolError)
        var lower = Self.opened()
        _ = Self.steps(&lower, Self.headers(5))
        #expect(Self.code(Self.steps(&lower, Self.headers(3))) == .protocolError)
    }

    @Test("Over SETTINGS_MAX_CONCURRENT_STREAMS: the stream is refused, its block still decoded")
    func concurrency() {
        var configuration = Machine.Configuration()
        configuration.maxConcurrentStreams = 1
        var machine = Self.opened(configuration)
        let steps = Self.steps(&machine, Self.headers(1), Self.headers(3), Self.headers(5))
        #expect(steps.count == 3)
        #expect(steps[1] == .refused(stream: 3) && steps[2] == .refused(stream: 5))
        machine.endSent(1)
        guard case .head(7, _, true)? = Self.steps(&machine, Self.headers(7)).first else { Issue.record("7 not opened"); return }
    }

    @Test("A header block interrupted by another frame, or a CONTINUATION without one: PROTOCOL_ERROR")
    func headerBlocks() {
        var machine = Self.opened()
        var open = ByteBuffer()
        FrameEncoder.writeFrameHeader(&open, length: 1, type: .headers, flags: 0, stream: 1)
        open.writeInteger(UInt8(0x82))
        var ping = ByteBuffer()
        FrameEncoder.ping(&ping, ack: false, opaque: 0)
        #expect(Self.code(Self.steps(&machine, open, ping)) == .protocolError)
        var stray = Self.opened()
        #expect(Self.code(Self.steps(&stray, Self.raw(type: 0x9, flags: 0x4, stream: 1, payload: [0x82]))) == .protocolError)
        var split = Self.opened()
        let whole = Self.block()
        let first = whole.getSlice(at: 0, length: 3) ?? ByteBuffer()
        let second = whole.getSlice(at: 3, length: whole.readableBytes - 3) ?? ByteBuffer()
        var frames = ByteBuffer()
        FrameEncoder.writeFrameHeader(&frames, length: 3, type: .headers, flags: FrameFlags.endStream, stream: 1)
        frames.writeImmutableBuffer(first)
        FrameEncoder.writeFrameHeader(&frames, length: second.readableBytes, type: .continuation, flags: FrameFlags.endHeaders, stream: 1)
        frames.writeImmutableBuffer(second)
        guard case .head(1, let headers, true)? = Self.steps(&split, frames).first else { Issue.record("not assembled"); return }
        #expect(headers.first(name: ":authority") == "localhost")
    }

    @Test("An invalid header block is COMPRESSION_ERROR")
    func compression() {
        var machine = Self.opened()
        // Indexed field 70: past the static table and the empty dynamic one.
        #expect(Self.code(Self.steps(&machine, Self.headers(1, block: ByteBuffer(bytes: [0xC6])))) == .compressionError)
    }

    @Test("Receive windows: DATA past the stream's is a FLOW_CONTROL_ERROR on it; credit comes back as the route takes the body")
    func receiveWindows() {
        var configuration = Machine.Configuration()
        configuration.initialWindowSize = 20_000
        var machine = Self.opened(configuration)
        _ = Self.steps(&machine, Self.headers(1, endStream: false))
        #expect(Self.steps(&machine, Self.data(1, 16_000)).count == 1)
        #expect(Self.streamCode(Self.steps(&machine, Self.data(1, 5_000))) == .flowControlError)
        var again = Self.opened(configuration)
        _ = Self.steps(&again, Self.headers(1, endStream: false), Self.data(1, 16_000))
        #expect(again.bodyTaken(1, bytes: 4_000) == nil)
        #expect(again.bodyTaken(1, bytes: 12_000) == 16_000)
        #expect(Self.steps(&again, Self.data(1, 16_000)).count == 1)
        // The connection's credit is given back in steps of 32 KiB.
        #expect(again.connectionCreditOwed == 32_000 && again.connectionCreditDue() == nil)
    }

    @Test("Send windows: the smaller of stream and connection, a frame at most; WINDOW_UPDATE 0 and overflow refused (§6.9)")
    func sendWindows() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.headers(1))
        #expect(machine.sendable(1) == 16_384)
        machine.sent(1, bytes: 60_000)
        #expect(machine.sendable(1) == 5_535)
        #expect(Self.steps(&machine, Self.windowUpdate(1, 100_000)) == [.windowOpened(stream: 1)])
        #expect(machine.sendable(1) == 5_535)  // the connection's window is the smaller now
        #expect(Self.streamCode(Self.steps(&machine, Self.windowUpdate(1, 0))) == .protocolError)
        var overflow = Self.opened()
        _ = Self.steps(&overflow, Self.headers(1))
        #expect(Self.streamCode(Self.steps(&overflow, Self.windowUpdate(1, Int(Int32.max)))) == .flowControlError)
        #expect(Self.code(Self.steps(&overflow, Self.windowUpdate(0, Int(Int32.max)))) == .flowControlError)
        var zero = Self.opened()
        #expect(Self.code(Self.steps(&zero, Self.windowUpdate(0, 0))) == .protocolError)
    }

    @Test("SETTINGS_INITIAL_WINDOW_SIZE moves open streams' windows by the difference, even below zero (§6.9.2)")
    func initialWindowDelta() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.headers(1))
        machine.sent(1, bytes: 10_000)
        #expect(Self.steps(&machine, Self.settings([(.initialWindowSize, 0)])) == [.settings(windowGrew: false)])
        #expect(machine.sendable(1) == 0)
        #expect(machine.streams[1]?.sendWindow == -10_000)
        #expect(Self.steps(&machine, Self.settings([(.initialWindowSize, 65_535)])) == [.settings(windowGrew: true)])
        #expect(machine.streams[1]?.sendWindow == 55_535)
        _ = Self.steps(&machine, Self.windowUpdate(1, Int(Int32.max) - 55_535))
        #expect(Self.code(Self.steps(&machine, Self.settings([(.initialWindowSize, 65_536)]))) == .flowControlError)
    }

    @Test("A connection error's GOAWAY names the last stream opened, not 2^31-1; after our GOAWAY newer streams are refused")
    func lastStream() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.headers(1), Self.headers(3))
        let steps = Self.steps(&machine, Self.raw(type: 0x5, flags: 0x4, stream: 3, payload: [0, 0, 0, 4]))
        #expect(steps == [.connectionError(.protocolError, "PUSH_PROMISE", lastStream: 3, flood: nil)])
        var going = Self.opened()
        _ = Self.steps(&going, Self.headers(1, endStream: false))
        #expect(going.goingAway() == 1)
        #expect(Self.steps(&going, Self.headers(3)) == [.refused(stream: 3)])
    }

    @Test("Self-dependency in PRIORITY or HEADERS is a PROTOCOL_ERROR on the stream (§5.3.1)")
    func selfDependency() {
        var machine = Self.opened()
        #expect(Self.streamCode(Self.steps(&machine, Self.raw(type: 0x2, stream: 3, payload: [0, 0, 0, 3, 16]))) == .protocolError)
        #expect(Self.steps(&machine, Self.raw(type: 0x2, stream: 9, payload: [0, 0, 0, 1, 16])) == [])
    }

    @Test("Floods: rapid reset, PING, empty DATA and CONTINUATION are ENHANCE_YOUR_CALM, each named")
    func floods() {
        func flood(_ steps: [Machine.Step]) -> String? {
            for step in steps { if case .connectionError(.enhanceYourCalm, _, _, let flood) = step { return flood } }
            return nil
        }
        var resets = Self.opened()
        var bytes = ByteBuffer()
        for i in 0..<201 {
            var h = Self.headers(UInt32(1 + 2 * i))
            bytes.writeBuffer(&h)
            var r = Self.raw(type: 0x3, stream: UInt32(1 + 2 * i), payload: [0, 0, 0, 8])
            bytes.writeBuffer(&r)
        }
        #expect(flood(Self.steps(&resets, bytes)) == "rapid_reset")
        var pings = Self.opened()
        var pingBytes = ByteBuffer()
        for i in 0..<101 { FrameEncoder.ping(&pingBytes, ack: false, opaque: UInt64(i)) }
        #expect(flood(Self.steps(&pings, pingBytes)) == "control_frame_flood")
        // Spread out over more than the window, the same PINGs are fine.
        var slow = Self.opened()
        for i in 0..<300 {
            var one = ByteBuffer()
            FrameEncoder.ping(&one, ack: false, opaque: 0)
            let at = Self.now + .milliseconds(Int64(i) * 400)
            #expect(Self.steps(&slow, one, now: at) == [.ping(0)])
        }
        var empty = Self.opened()
        #expect(flood(Self.steps(&empty, Self.headers(1, endStream: false), Self.data(1, 0), Self.data(1, 0))) == "empty_data_flood")
        var continuation = Self.opened()
        var c = ByteBuffer()
        FrameEncoder.writeFrameHeader(&c, length: 1, type: .headers, flags: 0, stream: 1)
        c.writeInteger(UInt8(0x82))
        for _ in 0..<6 {
            FrameEncoder.writeFrameHeader(&c, length: 1, type: .continuation, flags: 0, stream: 1)
            c.writeInteger(UInt8(0x84))
        }
        #expect(flood(Self.steps(&continuation, c)) == "continuation_flood")
    }

    @Test("After a connection error nothing more is read")
    func failedReadsNothing() {
        var machine = Self.opened()
        _ = Self.steps(&machine, Self.windowUpdate(0, 0))
        #expect(Self.steps(&machine, Self.headers(1)) == [])
        #expect(machine.phase == .failed)
    }
}
