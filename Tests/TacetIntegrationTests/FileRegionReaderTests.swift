import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import TacetTLS

/// `FileRegionReader` on an EmbeddedChannel: a file written as a region leaves as buffers, in
/// order with the writes around it; a file shorter than its region fails the write and closes.
@Suite("FileRegionReader: files through TLS as buffers")
struct FileRegionReaderTests {
    static func file(size: Int) throws -> (path: String, bytes: [UInt8]) {
        let path = NSTemporaryDirectory() + "tacet-region-\(UUID().uuidString)"
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, bytes)
    }

    static func drain(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    @Test("head, a 200 KB region and a tail leave as the same bytes in the same order; the promise succeeds")
    func inOrder() throws {
        let (path, bytes) = try Self.file(size: 200_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let channel = EmbeddedChannel(handler: FileRegionReader())
        let handle = try NIOFileHandle(_deprecatedPath: path)
        defer { try? handle.close() }
        let region = FileRegion(fileHandle: handle, readerIndex: 1000, endIndex: 150_000)
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.write(IOData.byteBuffer(ByteBuffer(string: "HEAD")), promise: nil)
        channel.write(IOData.fileRegion(region), promise: done)
        channel.write(IOData.byteBuffer(ByteBuffer(string: "TAIL")), promise: nil)
        channel.flush()
        let out = try Self.drain(channel)
        #expect(out == Array("HEAD".utf8) + Array(bytes[1000..<150_000]) + Array("TAIL".utf8))
        try done.futureResult.wait()  // already complete: EmbeddedChannel runs everything at once
        _ = try channel.finish()
    }

    @Test("a region past the file's end (the file shrank) fails its write and closes; the tail is never sent")
    func shortFile() throws {
        let (path, bytes) = try Self.file(size: 10_000)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let channel = EmbeddedChannel(handler: FileRegionReader())
        let handle = try NIOFileHandle(_deprecatedPath: path)
        defer { try? handle.close() }
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.write(IOData.fileRegion(FileRegion(fileHandle: handle, readerIndex: 0, endIndex: 20_000)), promise: done)
        channel.write(IOData.byteBuffer(ByteBuffer(string: "TAIL")), promise: nil)
        channel.flush()
        let out = try Self.drain(channel)
        #expect(out == bytes)
        #expect(throws: (any Error).self) { try done.futureResult.wait() }
        #expect(!channel.isActive)
    }
}
