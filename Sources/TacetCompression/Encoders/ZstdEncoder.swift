import CTacetCompression
import NIOCore

/// zstd (RFC 8878) through libzstd.so.1, loaded at run time (see `tacet_zstd_available`): on a
/// machine without it, zstd is not offered for on-the-fly compression, and precompressed `.zst`
/// files are served all the same. The window is capped at 2^18 per response.
package final class ZstdEncoder: ContentEncoder {
    package let coding = ContentCoding.zstd
    private let context: UnsafeMutableRawPointer
    private var finished = false
    static let maxWindowLog = 18

    /// Whether libzstd.so.1 (1.4 or later) could be loaded.
    package static var isAvailable: Bool { tacet_zstd_available() != 0 }

    /// The loaded library's version ("1.5.4"), for `tacet check`.
    package static var version: String? {
        let number = Int(tacet_zstd_version())
        guard number > 0 else { return nil }
        return "\(number / 10000).\(number / 100 % 100).\(number % 100)"
    }

    package init?(_ parameters: EncoderParameters) {
        // zstd's own minimum window is 2^10; a known size lets the library shrink it further.
        let window = ContentEncoders.windowLog(for: parameters.sizeHint, low: 10, high: Self.maxWindowLog)
        guard let context = tacet_zstd_create(Int32(min(max(parameters.level, 1), 19)), Int32(window),
                                              parameters.sizeHint.map(Int64.init) ?? -1) else { return nil }
        self.context = context
    }

    deinit { tacet_zstd_free(context) }

    package func encode(_ input: UnsafeRawBufferPointer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError) {
        guard !finished else { throw CompressionError("zstd: input after the end") }
        let directive: Int32 = switch mode {
        case .continue: 0
        case .flush: 1
        case .finish: 2
        }
        var inputPosition = 0
        let step = ContentEncoders.outputStep(for: input.count)
        while true {
            var remaining: Int64 = 0
            var failure: UnsafePointer<CChar>?
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: step) { room in
                var outputPosition = 0
                remaining = tacet_zstd_compress(context, input.baseAddress, input.count, &inputPosition,
                                                room.baseAddress, room.count, &outputPosition, directive, &failure)
                return remaining < 0 ? 0 : outputPosition
            }
            if remaining < 0 {
                throw CompressionError("zstd: " + (failure.map { String(cString: $0) } ?? "error"))
            }
            if inputPosition < input.count { continue }
            if mode == .continue || remaining == 0 {
                if mode == .finish { finished = true }
                return
            }
        }
    }
}
