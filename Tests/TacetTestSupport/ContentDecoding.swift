import CTacetCompression
import Foundation

/// Decodes compressed bodies with decoders independent of Tacet's encoders: Python's gzip,
/// brotli (Debian's python3-brotli) and zstandard (python3-zstandard), which `.ci/run` installs.
public enum ContentDecoding {
    public static let python = "/usr/bin/python3"

    private static let script = """
        import sys, zlib, gzip, brotli, zstandard
        coding, mode, source, target = sys.argv[1:5]
        data = open(source, 'rb').read()
        if mode == 'whole':
            if coding == 'gzip':
                out = gzip.decompress(data)
            elif coding == 'br':
                out = brotli.decompress(data)
            else:
                d = zstandard.ZstdDecompressor().decompressobj()
                out = d.decompress(data)
                if not d.eof:
                    sys.exit('zstd: truncated')
        else:
            if coding == 'gzip':
                out = zlib.decompressobj(wbits=31).decompress(data)
            elif coding == 'br':
                out = brotli.Decompressor().process(data)
            else:
                out = zstandard.ZstdDecompressor().decompressobj().decompress(data)
        open(target, 'wb').write(out)
        """

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The whole of a body encoded with `coding` (`gzip`, `br`, `zstd`): fails if it is
    /// corrupt or cut short. The decoder runs in a child process waited for on a thread of its
    /// own, never on the cooperative pool (two threads here: blocking one starves every suite).
    public static func decode(_ bytes: [UInt8], coding: String) async throws -> [UInt8] {
        try await blocking { try run(bytes, coding: coding, mode: "whole") }
    }

    /// What a prefix of an encoded body decodes to so far (after a flush, everything sent).
    public static func decodePrefix(_ bytes: [UInt8], coding: String) async throws -> [UInt8] {
        try await blocking { try run(bytes, coding: coding, mode: "prefix") }
    }

    /// A gzip prefix decoded in process (zlib's inflate): for conditions checked on every read,
    /// where starting a process each time would be too slow. nil if the bytes are not gzip.
    public static func gunzipPrefix(_ bytes: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var input = bytes
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeMutableBufferPointer { inputBuffer -> [UInt8]? in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            while true {
                let (code, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    let code = inflate(&stream, Z_SYNC_FLUSH)
                    return (code, out.count - Int(stream.avail_out))
                }
                output += chunk[0..<produced]
                switch code {
                case Z_STREAM_END: return output
                case Z_OK: if stream.avail_in == 0 && produced < chunk.count { return output }
                case Z_BUF_ERROR: return output
                default: return nil
                }
            }
        }
    }

    private static func run(_ bytes: [UInt8], coding: String, mode: String) throws -> [UInt8] {
        let directory = NSTemporaryDirectory()
        let source = directory + "tacet-decode-\(UUID().uuidString).in"
        let target = source + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: source)
            try? FileManager.default.removeItem(atPath: target)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: source))
        // posix_spawn, not Foundation's Process: its run() crashed here (a memcpy inside it)
        // with other suites starting processes at the same time.
        guard let result = Spawn.run(python, ["-c", script, coding, mode, source, target]), result.status == 0 else {
            throw Failure(description: "\(coding) decode failed (the tests need python3-brotli and python3-zstandard)")
        }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: target)))
    }
}
