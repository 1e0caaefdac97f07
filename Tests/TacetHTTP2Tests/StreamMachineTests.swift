import NIOHTTP2
import TacetHTTP
import Testing
@testable import TacetHTTP2

/// The stream exchange's decisions, without channels.
@Suite("HTTP/2: stream machine")
struct StreamMachineTests {
    @Test func endStreamOnTheHeadIsAWholeRequestNotAnAbort() {
        var machine = StreamMachine(maxBodySize: 100)
        #expect(machine.headReceived(endStream: true) == .dispatch(ended: true))
        machine.responseStarted()
        #expect(machine.responseEnded() == .finished(stopUpload: false))
        #expect(machine.streamClosed(connectionGone: false) == .none)
    }

    @Test func bodyThenEndStream() {
        var machine = StreamMachine(maxBodySize: 100)
        #expect(machine.headReceived(endStream: false) == .dispatch(ended: false))
        #expect(machine.dataReceived(bytes: 60, endStream: false) == .deliverBody(ended: false))
        #expect(machine.dataReceived(bytes: 40, endStream: true) == .deliverBody(ended: true))
        #expect(machine.responseEnded() == .finished(stopUpload: false))
    }

    @Test func aResetBeforeTheAnswerCancelsTheRoute() {
        var machine = StreamMachine(maxBodySize: 100)
        _ = machine.headReceived(endStream: true)
        #expect(machine.streamClosed(connectionGone: false) == .cancel(.clientRSTStream, end: "client_rst_stream", reset: nil))
        var other = StreamMachine(maxBodySize: 100)
        _ = other.headReceived(endStream: true)
        #expect(other.streamClosed(connectionGone: true) == .cancel(.clientRST, end: "client_rst", reset: nil))
    }

    @Test func aBodyOverTheLimitIs413BeforeTheAnswerAndAResetAfter() {
        var machine = StreamMachine(maxBodySize: 100)
        _ = machine.headReceived(endStream: false)
        #expect(machine.dataReceived(bytes: 101, endStream: false) == .respondError(status: 413, reason: "request body too large"))
        machine.responseStarted()
        #expect(machine.responseEnded() == .finished(stopUpload: false))

        var started = StreamMachine(maxBodySize: 100)
        _ = started.headReceived(endStream: false)
        started.responseStarted()
        #expect(started.dataReceived(bytes: 101, endStream: false) == .cancel(.serverClose, end: "body_too_large", reset: .cancel))
    }

    @Test func anAnswerBeforeTheUploadEndsStopsTheUploadWithNoError() {
        var machine = StreamMachine(maxBodySize: 100)
        _ = machine.headReceived(endStream: false)
        machine.responseStarted()
        #expect(machine.responseEnded() == .finished(stopUpload: true))
        #expect(machine.dataReceived(bytes: 10, endStream: false) == .none)
    }

    @Test func bodyTimeoutAndAbandon() {
        var machine = StreamMachine(maxBodySize: 100)
        _ = machine.headReceived(endStream: false)
        #expect(machine.bodyTimedOut() == .respondError(status: 408, reason: "request body timeout"))

        var abandoned = StreamMachine(maxBodySize: 100)
        _ = abandoned.headReceived(endStream: true)
        abandoned.responseStarted()
        #expect(abandoned.routeAbandoned(.serverClose) == .cancel(.serverClose, end: "server_close", reset: .internalError))
        #expect(abandoned.responseEnded() == .none)
    }
}
