import NIOCore
import Testing
@testable import TacetHTTP

@Suite struct SpareBufferTests {
    let allocator = ByteBufferAllocator()

    func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { $0.baseAddress }
    }

    @Test func reusesTheStorageOnceNobodyHoldsIt() {
        var spare = SpareBuffer()
        var first = spare.take(capacity: 64, allocator: allocator)
        first.writeString("first")
        let storage = address(first)
        spare.keep(first)
        first = ByteBuffer()  // what NIO does once the write is out
        var second = spare.take(capacity: 64, allocator: allocator)
        #expect(second.readableBytes == 0)
        second.writeString("second")
        #expect(address(second) == storage)
    }

    @Test func aBufferStillHeldIsNeverOverwritten() {
        var spare = SpareBuffer()
        var first = spare.take(capacity: 64, allocator: allocator)
        first.writeString("pending")
        spare.keep(first)  // `first` still held, as by a write waiting for the socket
        var second = spare.take(capacity: 64, allocator: allocator)
        second.writeString("next")
        #expect(String(buffer: first) == "pending")
        #expect(String(buffer: second) == "next")
    }

    @Test func aLargeBufferIsNotKept() {
        var spare = SpareBuffer()
        spare.keep(allocator.buffer(capacity: SpareBuffer.maxCapacity * 2))
        // Kept, the big storage would come back with its capacity.
        #expect(spare.take(capacity: 16, allocator: allocator).capacity < SpareBuffer.maxCapacity)
    }
}
