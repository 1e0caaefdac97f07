import Logging
import NIOConcurrencyHelpers

/// Everything a new connection is created with. Replaced whole on reload: connections keep
/// the state they were accepted with, so in-flight requests finish on the old configuration.
public struct ListenerState: Sendable {
    public var settings: ServerSettings
    public var responder: any Responder
    public var accessLog: AccessLog?
    public var observer: any HTTPObserver
    /// The listener's connections are TLS: their requests are `https`. Set per listener.
    public var isSecure = false

    public init(settings: ServerSettings, responder: any Responder, accessLog: AccessLog?,
                observer: any HTTPObserver = NoObserver()) {
        self.settings = settings
        self.responder = responder
        self.accessLog = accessLog
        self.observer = observer
    }
}
