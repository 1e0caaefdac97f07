import NIOCore

/// Frames written into one buffer: the connection appends every frame of a flush to the same
/// buffer, so a flush is one write (and, over TLS, one record where it fits), where NIOHTTP2
/// wrote a buffer per frame and NIOSSL sealed each as its own record.
enum FrameEncoder {
    static func writeFrameHeader(_ out: inout ByteBuffer, length: Int, type: FrameType, flags: UInt8, stream: UInt32) {
        out.writeMultipleIntegers(UInt16(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
                                  type.rawValue, flags, stream & 0x7FFF_FFFF)
    }

    /// A frame header filled in over the blank one at `index` (a header block encoded in place).
    static func setFrameHeader(_ out: inout ByteBuffer, at index: Int, length: Int, type: FrameType, flags: UInt8, stream: UInt32) {
        out.setMultipleIntegers(UInt16(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
                                type.rawValue, flags, stream & 0x7FFF_FFFF, at: index)
    }

    /// Our SETTINGS (§6.5), parameters in the order given.
    static func settings(_ out: inout ByteBuffer, _ parameters: [(SettingsFrame.Parameter, UInt32)]) {
        writeFrameHeader(&out, length: parameters.count * 6, type: .settings, flags: 0, stream: 0)
        for (parameter, value) in parameters { out.writeMultipleIntegers(parameter.rawValue, value) }
    }

    static func settingsAck(_ out: inout ByteBuffer) {
        writeFrameHeader(&out, length: 0, type: .settings, flags: FrameFlags.ack, stream: 0)
    }

    static func ping(_ out: inout ByteBuffer, ack: Bool, opaque: UInt64) {
        writeFrameHeader(&out, length: 8, type: .ping, flags: ack ? FrameFlags.ack : 0, stream: 0)
        out.writeInteger(opaque)
    }

    static func goAway(_ out: inout ByteBuffer, lastStream: UInt32, code: H2ErrorCode, debug: String = "") {
        let debugBytes = debug.utf8.prefix(256)
        writeFrameHeader(&out, length: 8 + debugBytes.count, type: .goAway, flags: 0, stream: 0)
        out.writeMultipleIntegers(lastStream & 0x7FFF_FFFF, code.rawValue)
        out.writeBytes(debugBytes)
    }

    static func rstStream(_ out: inout ByteBuffer, stream: UInt32, code: H2ErrorCode) {
        writeFrameHeader(&out, length: 4, type: .rstStream, flags: 0, stream: stream)
        out.writeInteger(code.rawValue)
    }

    static func windowUpdate(_ out: inout ByteBuffer, stream: UInt32, increment: Int) {
        writeFrameHeader(&out, length: 4, type: .windowUpdate, flags: 0, stream: stream)
        out.writeInteger(UInt32(truncatingIfNeeded: increment) & 0x7FFF_FFFF)
    }

    /// A header block as HEADERS, and CONTINUATION frames past the peer's SETTINGS_MAX_FRAME_SIZE.
    static func headers(_ out: inout ByteBuffer, stream: UInt32, block: ByteBuffer, endStream: Bool, maxFrameSize: Int) {
        var rest = block
        var first = true
        repeat {
            let length = min(rest.readableBytes, maxFrameSize)
            let last = length == rest.readableBytes
            let flags = (last ? FrameFlags.endHeaders : 0) | (first && endStream ? FrameFlags.endStream : 0)
            writeFrameHeader(&out, length: length, type: first ? .headers : .continuation, flags: flags, stream: stream)
            if var part = rest.readSlice(length: length) { out.writeBuffer(&part) }
            first = false
        } while rest.readableBytes > 0
    }

    /// A DATA frame's header; its `length` bytes of payload follow, written by the caller.
    static func dataHeader(_ out: inout ByteBuffer, stream: UInt32, length: Int, endStream: Bool) {
        writeFrameHeader(&out, length: length, type: .data, flags: endStream ? FrameFlags.endStream : 0, stream: stream)
    }

    static func data(_ out: inout ByteBuffer, stream: UInt32, payload: ByteBuffer, endStream: Bool) {
        dataHeader(&out, stream: stream, length: payload.readableBytes, endStream: endStream)
        out.writeImmutableBuffer(payload)
    }
}
