import NIOCore

/// How much of the compressor's state to push out with the bytes given.
package enum EncodeMode: Sendable {
    /// Compress; output may lag the input (the compressor keeps a window).
    case `continue`
    /// Everything given so far goes out, decodable as it stands (gzip's sync flush): for an
    /// event stream, or an upstream that paused.
    case flush
    /// The last input: the coding's trailer follows.
    case finish
}

/// A compressor failed: the response it was encoding is cut short, never passed on as whole.
package struct CompressionError: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// A streaming compressor for one response: input in, output appended, with bounded state (a
/// fixed window) whatever the body's length. Used on one event loop.
package protocol ContentEncoder: AnyObject {
    var coding: ContentCoding { get }
    /// Compresses all of `input`'s readable bytes, appending what the compressor produces to
    /// `output`. After `.finish`, no more calls.
    func encode(_ input: UnsafeRawBufferPointer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError)
}

extension ContentEncoder {
    package func encode(_ input: ByteBuffer, mode: EncodeMode, into output: inout ByteBuffer) throws(CompressionError) {
        let result: Result<Void, CompressionError> = input.withUnsafeReadableBytes { bytes in
            do throws(CompressionError) {
                try encode(bytes, mode: mode, into: &output)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    package func finish(into output: inout ByteBuffer) throws(CompressionError) {
        try encode(UnsafeRawBufferPointer(start: nil, count: 0), mode: .finish, into: &output)
    }
}

/// What a compressor is set up with: the level, and the body's length when known (a small body
/// gets a small window, as nginx sizes gzip's).
package struct EncoderParameters: Sendable, Equatable {
    package var level: Int
    package var sizeHint: Int?
    package init(level: Int, sizeHint: Int? = nil) {
        self.level = level
        self.sizeHint = sizeHint
    }
}

package enum ContentEncoders {
    /// A compressor for `coding`, or nil when this machine cannot produce it (zstd without
    /// libzstd) or the library refused to start one.
    package static func make(_ coding: ContentCoding, _ parameters: EncoderParameters) -> (any ContentEncoder)? {
        switch coding {
        case .gzip: GzipEncoder(parameters)
        case .br: BrotliEncoder(parameters)
        case .zstd: ZstdEncoder(parameters)
        }
    }

    /// The output room to ask for per step: the compressor writes straight into the buffer.
    static func outputStep(for inputCount: Int) -> Int { max(4096, min(inputCount / 2 + 64, 64 * 1024)) }

    /// The smallest power of two at least `size` (at least 2^low), capped at 2^high, as a log.
    static func windowLog(for size: Int?, low: Int, high: Int) -> Int {
        guard let size, size >= 0 else { return high }
        var log = low
        while log < high, (1 << log) < size { log += 1 }
        return log
    }
}
