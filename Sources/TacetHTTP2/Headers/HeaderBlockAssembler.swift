import NIOCore

/// A header block across HEADERS and CONTINUATION frames (RFC 9113 §4.3, §6.10): while one is
/// open, any other frame is a connection error; it is bounded in bytes and in CONTINUATION
/// frames (the CONTINUATION flood, CVE-2024-27316) before any of it is decoded. A block that
/// comes whole in its HEADERS frame is passed on as the frame's own slice, with no copy.
struct HeaderBlockAssembler {
    struct Block {
        var stream: UInt32
        var fragment: ByteBuffer
        var endStream: Bool
        var priority: Priority?
    }

    enum Step {
        case complete(Block)
        case incomplete
    }

    /// The most bytes a block may take, encoded.
    let maxBytes: Int
    let maxContinuations: Int
    private(set) var open: Block?
    private var continuations = 0

    init(maxBytes: Int, maxContinuations: Int) {
        self.maxBytes = maxBytes
        self.maxContinuations = maxContinuations
    }

    var openStream: UInt32? { open?.stream }

    mutating func headers(stream: UInt32, fragment: ByteBuffer, endStream: Bool, endHeaders: Bool,
                          priority: Priority?) throws(H2Error) -> Step {
        let block = Block(stream: stream, fragment: fragment, endStream: endStream, priority: priority)
        if endHeaders { return .complete(block) }
        guard fragment.readableBytes <= maxBytes else { throw Self.tooLarge }
        var copy = ByteBuffer()
        copy.reserveCapacity(fragment.readableBytes * 2)
        copy.writeImmutableBuffer(fragment)
        open = Block(stream: stream, fragment: copy, endStream: endStream, priority: priority)
        continuations = 0
        return .incomplete
    }

    /// Returns `.complete` when the flood limit or the byte limit is not broken and END_HEADERS came.
    mutating func continuation(stream: UInt32, fragment: ByteBuffer, endHeaders: Bool) throws(H2Error) -> Step {
        guard var block = open, block.stream == stream else {
            throw .connection(.protocolError, "CONTINUATION without a header block open on stream \(stream)")
        }
        continuations += 1
        guard continuations <= maxContinuations else {
            throw .connection(.enhanceYourCalm, "continuation_flood")
        }
        guard block.fragment.readableBytes + fragment.readableBytes <= maxBytes else { throw Self.tooLarge }
        open = nil  // the fragment is appended without copying the whole block again
        block.fragment.writeImmutableBuffer(fragment)
        if endHeaders { return .complete(block) }
        open = block
        return .incomplete
    }

    private static var tooLarge: H2Error { .connection(.enhanceYourCalm, "header_block_too_large") }
}
