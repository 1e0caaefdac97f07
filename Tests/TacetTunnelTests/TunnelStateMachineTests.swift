import NIOCore
import Testing
@testable import TacetTunnel

/// A tunnel's decisions (TCP stream or Upgrade) without sockets: FIN forwarding per direction, RST propagation,
/// the half-close timer, and which side closed first.
@Suite struct TunnelStateMachineTests {
    typealias Machine = TunnelStateMachine

    @Test func clientFINFirstThenUpstreamFIN() {
        var machine = Machine()
        #expect(machine.inputClosed(.client) == .forwardFIN(to: .upstream, armTimer: true))
        #expect(machine.outputShutDown(.upstream) == .none)
        #expect(!machine.isFinished)
        #expect(machine.inputClosed(.upstream) == .forwardFIN(to: .client, armTimer: false))
        #expect(machine.outputShutDown(.client) == .close)
        #expect(machine.end == .clean)
        #expect(machine.firstClose?.side == .client && machine.firstClose?.how == .fin)
    }

    @Test func upstreamFINFirst() {
        var machine = Machine()
        #expect(machine.inputClosed(.upstream) == .forwardFIN(to: .client, armTimer: true))
        #expect(machine.isInputOpen(.client) && !machine.isInputOpen(.upstream))
        // The second FIN arrives before the first one's flush finished: no second timer.
        #expect(machine.inputClosed(.client) == .forwardFIN(to: .upstream, armTimer: false))
        #expect(machine.outputShutDown(.client) == .none)
        #expect(machine.outputShutDown(.upstream) == .close)
        #expect(machine.firstClose?.side == .upstream)
    }

    @Test func repeatedFINIsIgnored() {
        var machine = Machine()
        _ = machine.inputClosed(.client)
        #expect(machine.inputClosed(.client) == .none)
    }

    @Test(arguments: [Machine.Side.client, .upstream])
    func resetIsPassedOn(side: Machine.Side) {
        var machine = Machine()
        #expect(machine.failed(side) == .reset(gone: side))
        #expect(machine.end == .reset)
        #expect(machine.firstClose?.side == side && machine.firstClose?.how == .rst)
        // Nothing after the end changes anything.
        #expect(machine.failed(side.other) == .none)
        #expect(machine.inputClosed(side.other) == .none)
        #expect(machine.halfCloseTimeout() == .none)
    }

    @Test func resetAfterAFINKeepsTheFirstClose() {
        var machine = Machine()
        _ = machine.inputClosed(.client)
        #expect(machine.failed(.upstream) == .reset(gone: .upstream))
        #expect(machine.firstClose?.side == .client && machine.firstClose?.how == .fin)
        #expect(machine.end == .reset)
    }

    @Test func halfCloseTimeoutResetsBoth() {
        var machine = Machine()
        _ = machine.inputClosed(.client)
        _ = machine.outputShutDown(.upstream)
        #expect(machine.halfCloseTimeout() == .resetBoth)
        #expect(machine.end == .timeout)
        #expect(machine.outputShutDown(.client) == .none)
    }

    @Test func closeAfterOurFINIsTheirFIN() {
        // NIO closes a channel whose write side we shut down when its FIN arrives.
        var machine = Machine()
        _ = machine.inputClosed(.client)
        _ = machine.outputShutDown(.upstream)
        #expect(machine.channelClosed(.upstream) == .forwardFIN(to: .client, armTimer: false))
        #expect(machine.outputShutDown(.client) == .close)
        #expect(machine.end == .clean)
    }

    @Test func closeWithoutOurFINIsAReset() {
        var machine = Machine()
        #expect(machine.channelClosed(.client) == .reset(gone: .client))
        var afterTheirFIN = Machine()
        _ = afterTheirFIN.inputClosed(.client)
        // The client sent its FIN and then vanished while we still owed it bytes.
        #expect(afterTheirFIN.channelClosed(.client) == .reset(gone: .client))
        #expect(afterTheirFIN.firstClose?.how == .fin)
    }

    @Test("Idle with both directions open: both closed normally, as nginx ends a silent WebSocket")
    func idleTimeoutWhileOpen() {
        var machine = Machine()
        #expect(machine.idleTimeout() == .close)
        #expect(machine.end == .idle)
        #expect(machine.inputClosed(.client) == .none)
    }

    @Test("Idle after a first FIN: the half-close rule, both reset")
    func idleTimeoutAfterFIN() {
        var machine = Machine()
        _ = machine.inputClosed(.client)
        #expect(machine.idleTimeout() == .resetBoth)
        #expect(machine.end == .timeout)
    }
}
