import NIOCore
import TacetTestSupport
import Testing
@testable import TacetHTTP2

/// The frame layer without a channel: what the encoder writes the parser reads back, whole or
/// split at any byte; every frame-level rule of RFC 9113 §4 and §6 refused with its code; and
/// random input never crashes it or makes it consume part of a frame.
@Suite("HTTP/2: frame parser and encoder")
struct FrameParserTests {
    /// One of each frame the encoder writes, and the frame the parser should read back.
    static func samples() -> [(bytes: ByteBuffer, frame: Frame)] {
        var out: [(ByteBuffer, Frame)] = []
        func add(_ frame: Frame, _ write: (inout ByteBuffer) -> Void) {
            var buffer = ByteBuffer()
            write(&buffer)
            out.append((buffer, frame))
        }
        add(.settings(SettingsFrame(maxConcurrentStreams: 128, initialWindowSize: 262_144, maxHeaderListSize: 32_768))) {
            FrameEncoder.settings(&$0, [(.maxConcurrentStreams, 128), (.initialWindowSize, 262_144), (.maxHeaderListSize, 32_768)])
        }
        add(.settingsAck) { FrameEncoder.settingsAck(&$0) }
        add(.ping(ack: true, opaque: 0x0102_0304_0506_0708)) { FrameEncoder.ping(&$0, ack: true, opaque: 0x0102_0304_0506_0708) }
        add(.goAway(lastStream: 7, code: .enhanceYourCalm, debug: ByteBuffer(string: "calm"))) {
            FrameEncoder.goAway(&$0, lastStream: 7, code: .enhanceYourCalm, debug: "calm")
        }
        add(.rstStream(stream: 3, .cancel)) { FrameEncoder.rstStream(&$0, stream: 3, code: .cancel) }
        add(.windowUpdate(stream: 0, increment: 1 << 20)) { FrameEncoder.windowUpdate(&$0, stream: 0, increment: 1 << 20) }
        add(.headers(stream: 1, fragment: ByteBuffer(bytes: [0x88]), endStream: true, endHeaders: true, priority: nil)) {
            FrameEncoder.headers(&$0, stream: 1, block: ByteBuffer(bytes: [0x88]), endStream: true, maxFrameSize: 16_384)
        }
        add(.data(stream: 1, data: ByteBuffer(string: "hello"), endStream: false, flowLength: 5)) {
            FrameEncoder.data(&$0, stream: 1, payload: ByteBuffer(string: "hello"), endStream: false)
        }
        add(.data(stream: 5, data: ByteBuffer(), endStream: true, flowLength: 0)) {
            FrameEncoder.data(&$0, stream: 5, payload: ByteBuffer(), endStream: true)
        }
        return out
    }

    static func parseAll(_ bytes: ByteBuffer, parser: FrameParser = FrameParser()) throws -> [Frame] {
        var parser = parser
        var buffer = bytes
        var frames: [Frame] = []
        while let frame = try parser.next(from: &buffer) { frames.append(frame) }
        #expect(buffer.readableBytes == 0)
        return frames
    }

    @Test("Each frame the encoder writes reads back as itself")
    func roundTrip() throws {
        for (bytes, frame) in Self.samples() {
            #expect(try Self.parseAll(bytes) == [frame])
        }
    }

    @Test("All frames in one buffer, split at every byte: the same frames, none consumed in part")
    func splitAtEveryByte() throws {
        var all = ByteBuffer()
        var expected: [Frame] = []
        for (var bytes, frame) in Self.samples() {
            all.writeBuffer(&bytes)
            expected.append(frame)
        }
        for cut in 0...all.readableBytes {
            var parser = FrameParser()
            var pending = all.getSlice(at: 0, length: cut) ?? ByteBuffer()
            var frames: [Frame] = []
            while let frame = try parser.next(from: &pending) { frames.append(frame) }
            var rest = all.getSlice(at: cut, length: all.readableBytes - cut) ?? ByteBuffer()
            // What is left of a partial frame stays unread, as the handler keeps it.
            var joined = ByteBuffer()
            joined.writeBuffer(&pending)
            joined.writeBuffer(&rest)
            while let frame = try parser.next(from: &joined) { frames.append(frame) }
            #expect(frames == expected, "cut at \(cut)")
            #expect(joined.readableBytes == 0)
        }
    }

    @Test("One byte at a time")
    func oneByteAtATime() throws {
        var all = ByteBuffer()
        for (var bytes, _) in Self.samples() { all.writeBuffer(&bytes) }
        var parser = FrameParser()
        var pending = ByteBuffer()
        var count = 0
        for byte in all.readableBytesView {
            pending.writeInteger(byte)
            while try parser.next(from: &pending) != nil { count += 1 }
        }
        #expect(count == Self.samples().count)
    }

    @Test("A header block over the peer's frame size goes on in CONTINUATION frames")
    func continuationSplit() throws {
        let block = ByteBuffer(repeating: 0x41, count: 40_000)
        var out = ByteBuffer()
        FrameEncoder.headers(&out, stream: 3, block: block, endStream: false, maxFrameSize: 16_384)
        let frames = try Self.parseAll(out)
        #expect(frames.count == 3)
        guard case .headers(3, let first, false, false, nil) = frames[0],
              case .continuation(3, let second, false) = frames[1],
              case .continuation(3, let third, true) = frames[2] else {
            Issue.record("\(frames)")
            return
        }
        #expect(first.readableBytes + second.readableBytes + third.readableBytes == 40_000)
    }

    /// A frame from its parts, for frames the encoder never writes.
    static func raw(type: UInt8, flags: UInt8 = 0, stream: UInt32, payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt16(payload.count >> 8), UInt8(payload.count & 0xFF), type, flags, stream)
        buffer.writeBytes(payload)
        return buffer
    }

    static func error(_ bytes: ByteBuffer, maxFrameSize: Int = 16_384) -> H2Error? {
        var parser = FrameParser(maxFrameSize: maxFrameSize)
        var buffer = bytes
        do {
            while try parser.next(from: &buffer) != nil {}
            return nil
        } catch {
            return error
        }
    }

    static func code(_ bytes: ByteBuffer) -> H2ErrorCode? {
        switch error(bytes) {
        case .connection(let code, _)?: return code
        case .stream(_, let code, _)?: return code
        case nil: return nil
        }
    }

    static func isConnectionError(_ bytes: ByteBuffer) -> Bool {
        if case .connection? = error(bytes) { return true }
        return false
    }

    @Test("A frame over SETTINGS_MAX_FRAME_SIZE is refused from its header, before its payload comes")
    func oversizeFromTheHeader() {
        var header = ByteBuffer()
        FrameEncoder.writeFrameHeader(&header, length: 16_385, type: .data, flags: 0, stream: 1)
        #expect(Self.error(header) == .connection(.frameSizeError, "frame of 16385 bytes over SETTINGS_MAX_FRAME_SIZE 16384"))
        FrameEncoder.writeFrameHeader(&header, length: 16_385, type: .data, flags: 0, stream: 1)
        #expect(Self.error(header, maxFrameSize: 20_000) == nil)
    }

    @Test("Frames on the wrong stream: PROTOCOL_ERROR on the connection (§6)")
    func wrongStream() {
        for type: UInt8 in [0x0, 0x1, 0x2, 0x3, 0x9] {
            let length = type == 0x2 ? 5 : type == 0x3 ? 4 : 1
            let frame = Self.raw(type: type, flags: 0x4, stream: 0, payload: [UInt8](repeating: 0, count: length))
            #expect(Self.code(frame) == .protocolError && Self.isConnectionError(frame), "type \(type)")
        }
        #expect(Self.code(Self.raw(type: 0x4, stream: 1, payload: [])) == .protocolError)
        #expect(Self.code(Self.raw(type: 0x6, stream: 1, payload: [UInt8](repeating: 0, count: 8))) == .protocolError)
        #expect(Self.code(Self.raw(type: 0x7, stream: 1, payload: [UInt8](repeating: 0, count: 8))) == .protocolError)
    }

    @Test("Wrong lengths: FRAME_SIZE_ERROR; a PRIORITY's only on its stream (§6.3)")
    func wrongLengths() {
        #expect(Self.error(Self.raw(type: 0x2, stream: 3, payload: [0, 0, 0, 1])) == .stream(3, .frameSizeError, "PRIORITY of 4 bytes"))
        #expect(Self.code(Self.raw(type: 0x3, stream: 3, payload: [0, 0, 0])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x4, stream: 0, payload: [0, 3, 0, 0, 0])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x4, flags: 0x1, stream: 0, payload: [0, 3, 0, 0, 0, 1])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x6, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x7, stream: 0, payload: [0, 0, 0, 0, 0, 0, 0])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x8, stream: 0, payload: [0, 0, 1])) == .frameSizeError)
        #expect(Self.code(Self.raw(type: 0x8, stream: 1, payload: [0, 0, 0, 1, 0])) == .frameSizeError)
    }

    @Test("Padding that is not shorter than the payload: PROTOCOL_ERROR (§6.1, §6.2)")
    func padding() throws {
        #expect(Self.code(Self.raw(type: 0x0, flags: 0x8, stream: 1, payload: [4, 0x61, 0, 0])) == .protocolError)
        #expect(Self.code(Self.raw(type: 0x0, flags: 0x8, stream: 1, payload: [3, 0x61, 0, 0])) == nil)
        #expect(Self.code(Self.raw(type: 0x0, flags: 0x8, stream: 1, payload: [])) == .frameSizeError)
        // Padded and with priority: 1 + 5 bytes of fields, then the fragment and padding.
        #expect(Self.code(Self.raw(type: 0x1, flags: 0x28 | 0x4, stream: 1, payload: [2, 0, 0, 0, 0, 16, 0])) == .protocolError)
        let padded = try Self.parseAll(Self.raw(type: 0x0, flags: 0x8 | 0x1, stream: 1, payload: [2, 0x61, 0x62, 0, 0]))
        #expect(padded == [.data(stream: 1, data: ByteBuffer(string: "ab"), endStream: true, flowLength: 5)])
        let withPriority = try Self.parseAll(Self.raw(type: 0x1, flags: 0x28 | 0x4, stream: 1,
                                                      payload: [1, 0x80, 0, 0, 3, 15, 0x88, 0]))
        #expect(withPriority == [.headers(stream: 1, fragment: ByteBuffer(bytes: [0x88]), endStream: false, endHeaders: true,
                                          priority: Priority(dependency: 3, exclusive: true, weight: 15))])
    }

    @Test("Setting values out of range (§6.5.2); unknown settings and unknown frame types ignored")
    func settingsRanges() throws {
        func settings(_ id: UInt16, _ value: UInt32) -> ByteBuffer {
            var payload = ByteBuffer()
            payload.writeMultipleIntegers(id, value)
            return Self.raw(type: 0x4, stream: 0, payload: Array(payload.readableBytesView))
        }
        #expect(Self.code(settings(0x2, 2)) == .protocolError)
        #expect(Self.code(settings(0x4, 1 << 31)) == .flowControlError)
        #expect(Self.code(settings(0x5, 16_383)) == .protocolError)
        #expect(Self.code(settings(0x5, 1 << 24)) == .protocolError)
        #expect(Self.code(settings(0x8, 2)) == .protocolError)
        #expect(try Self.parseAll(settings(0x4, (1 << 31) - 1)) == [.settings(SettingsFrame(initialWindowSize: (1 << 31) - 1))])
        #expect(try Self.parseAll(settings(0xFF, 7)) == [.settings(SettingsFrame())])
        #expect(try Self.parseAll(Self.raw(type: 0xEE, flags: 0xFF, stream: 5, payload: [1, 2, 3])) == [.unknown(type: 0xEE, stream: 5)])
    }

    @Test("The reserved bit of a stream identifier and of an increment is ignored (§4.1, §6.9)")
    func reservedBits() throws {
        #expect(try Self.parseAll(Self.raw(type: 0x8, stream: 0x8000_0003, payload: [0x80, 0, 0, 1]))
                == [.windowUpdate(stream: 3, increment: 1)])
        #expect(try Self.parseAll(Self.raw(type: 0x8, stream: 0, payload: [0, 0, 0, 0])) == [.windowUpdate(stream: 0, increment: 0)])
    }

    @Test("The connection preface, checked byte by byte as it arrives")
    func preface() {
        var partial = ByteBuffer(string: "PRI * HTTP/2.0\r\n")
        #expect(ConnectionPreface.read(&partial) == .needMore)
        var wrong = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        #expect(ConnectionPreface.read(&wrong) == .invalid)
        var early = ByteBuffer(string: "PRX")
        #expect(ConnectionPreface.read(&early) == .invalid)
        var whole = ByteBuffer(bytes: ConnectionPreface.bytes + [0, 0])
        #expect(ConnectionPreface.read(&whole) == .complete)
        #expect(whole.readableBytes == 2)
    }

    @Test("Random input, whole and mutated from valid frames: no crash, no frame consumed in part")
    func fuzz() {
        var generator = SeededGenerator(seed: 0x4832_4652)
        var valid: [UInt8] = []
        for (bytes, _) in Self.samples() { valid += Array(bytes.readableBytesView) }
        for round in 0..<20_000 {
            let input: [UInt8]
            if round % 4 == 0 {
                input = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                input = generator.mutate(valid)
            }
            var parser = FrameParser()
            var buffer = ByteBuffer(bytes: input)
            var consumed = 0
            while true {
                let before = buffer.readableBytes
                guard let frame = try? parser.next(from: &buffer) else { break }
                _ = frame
                consumed += before - buffer.readableBytes
                #expect(before - buffer.readableBytes >= FrameLimits.headerSize)
            }
            #expect(consumed <= input.count)
        }
    }
}
