import CTacetCompression
import NIOCore

/// gzip through the system's zlib (the one nginx links), with nginx's window sizing: a body
/// known to be small gets a smaller window and hash, so less memory to set up and clear.
package final class GzipEncoder: ContentEncoder {
    package let coding = ContentCoding.gzip
    private let stream: UnsafeMutablePointer<z_stream>
    private var finished = false

    package init?(_ parameters: EncoderParameters) {
        var windowBits = 15
        var memLevel = 8
        if let size = parameters.sizeHint, size > 0 {
            // ngx_http_gzip_filter_module's rule: shrink while the body fits in half the window.
            while windowBits > 9, size < (1 << (windowBits - 1)) - 262 {
                windowBits -= 1
                memLevel -= 1
            }
            memLevel = max(memLevel, 1)
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard tacet_deflate_init(stream, Int32(min(max(parameters.level, 1), 9)), Int32(windowBits), Int32(memLevel)) == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    package func encode(_ input: UnsafeRawBufferPointer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError) {
        guard !finished else { throw CompressionError("gzip: input after the end") }
        let flush: Int32 = switch mode {
        case .continue: Z_NO_FLUSH
        case .flush: Z_SYNC_FLUSH
        case .finish: Z_FINISH
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        let step = ContentEncoders.outputStep(for: input.count)
        while true {
            var code: Int32 = Z_OK
            var outputFull = false
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: step) { room in
                stream.pointee.next_out = room.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = uInt(room.count)
                code = deflate(stream, flush)
                let produced = room.count - Int(stream.pointee.avail_out)
                outputFull = stream.pointee.avail_out == 0
                stream.pointee.next_out = nil
                stream.pointee.avail_out = 0
                return produced
            }
            switch code {
            case Z_STREAM_END:
                finished = true
                return
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress possible, which only means there is nothing left to do.
                if !outputFull, stream.pointee.avail_in == 0, mode != .finish { return }
                if code == Z_BUF_ERROR, !outputFull { throw CompressionError("gzip: no progress") }
            default:
                throw CompressionError("gzip: deflate returned \(code)")
            }
        }
    }
}
