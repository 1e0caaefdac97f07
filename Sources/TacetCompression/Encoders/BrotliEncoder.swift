import CTacetCompression
import NIOCore

/// Brotli (RFC 7932) through the system's libbrotlienc. The window is capped at 2^18 (a
/// fixed bound per response); a body known to be smaller gets a window its size.
package final class BrotliEncoder: ContentEncoder {
    package let coding = ContentCoding.br
    private let state: OpaquePointer
    private var finished = false
    static let maxWindowLog = 18

    package init?(_ parameters: EncoderParameters) {
        guard let state = BrotliEncoderCreateInstance(nil, nil, nil) else { return nil }
        self.state = state
        let quality = UInt32(min(max(parameters.level, 0), 11))
        let window = UInt32(ContentEncoders.windowLog(for: parameters.sizeHint, low: 10, high: Self.maxWindowLog))
        guard BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, quality) == BROTLI_TRUE,
              BrotliEncoderSetParameter(state, BROTLI_PARAM_LGWIN, window) == BROTLI_TRUE else {
            BrotliEncoderDestroyInstance(state)
            return nil
        }
        if let size = parameters.sizeHint, size > 0, size <= Int(UInt32.max) {
            _ = BrotliEncoderSetParameter(state, BROTLI_PARAM_SIZE_HINT, UInt32(size))
        }
    }

    deinit { BrotliEncoderDestroyInstance(state) }

    package func encode(_ input: UnsafeRawBufferPointer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError) {
        guard !finished else { throw CompressionError("br: input after the end") }
        let operation: BrotliEncoderOperation = switch mode {
        case .continue: BROTLI_OPERATION_PROCESS
        case .flush: BROTLI_OPERATION_FLUSH
        case .finish: BROTLI_OPERATION_FINISH
        }
        var availableIn = input.count
        var nextIn: UnsafePointer<UInt8>? = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let step = ContentEncoders.outputStep(for: input.count)
        while true {
            var ok = true
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: step) { room in
                var availableOut = room.count
                var nextOut: UnsafeMutablePointer<UInt8>? = room.baseAddress?.assumingMemoryBound(to: UInt8.self)
                ok = BrotliEncoderCompressStream(state, operation, &availableIn, &nextIn, &availableOut, &nextOut, nil) == BROTLI_TRUE
                return room.count - availableOut
            }
            guard ok else { throw CompressionError("br: the encoder failed") }
            if BrotliEncoderHasMoreOutput(state) == BROTLI_TRUE || availableIn > 0 { continue }
            switch mode {
            case .continue, .flush:
                return
            case .finish:
                if BrotliEncoderIsFinished(state) == BROTLI_TRUE {
                    finished = true
                    return
                }
            }
        }
    }
}
