import NIOCore
import TacetTunnel
import TacetConfig
import TacetHTTP
import TacetStream
import TacetUpstream

/// What a reload changed, for the log line that reports it.
public struct ReloadSummary: Sendable {
    /// HTTP and stream addresses bound by this reload, and those it closed.
    public var bound: [SocketAddress] = []
    public var closed: [SocketAddress] = []
    /// What the new configuration asks that only a restart does (adding or removing `admin:`).
    public var needsRestart: [String] = []
}

extension TacetServer {
    /// SIGHUP: new connections get `configuration`; open connections finish on the one they
    /// were accepted with. Listening sockets whose address stays are never closed, new
    /// addresses are bound, removed ones closed. Upstream groups start afresh (their health
    /// checks restart with a check at once); the old groups' idle pooled connections close now
    /// and busy ones when their request ends.
    ///
    /// Everything that can fail (opening the access log, binding) happens before anything is
    /// switched: on error nothing has changed and the old configuration keeps serving.
    /// Not reentrant: the caller runs one reload at a time (signals are handled in order).
    ///
    /// `admin.listen` moves the admin listener (adding or removing `admin:` needs a restart: see
    /// `ReloadSummary.needsRestart`). `max_connections` applies to every listener, kept ones
    /// included (no open connection is closed for a lower limit). Not applied until a restart:
    /// `shutdown_timeout` of a shutdown already under way.
    @discardableResult
    public func reload(configuration: TacetConfiguration) async throws -> ReloadSummary {
        await reloads.enter()
        do {
            let summary = try await reloadNow(configuration)
            await reloads.leave()
            return summary
        } catch {
            await reloads.leave()
            throw error
        }
    }

    private func reloadNow(_ configuration: TacetConfiguration) async throws -> ReloadSummary {
        let old = current.withLockedValue { $0 }
        acme?.configure(configuration)
        var runtime = RuntimeConfiguration(configuration, previous: old.runtime)
        // Certificates first: one that cannot be read refuses the reload before anything moves.
        let listeners = try ListenerSetup.specs(configuration, logger: logger, observer: admin?.metrics ?? NoObserver(), managed: acme)
        try runtime.openCacheZones(previous: old.runtime, logger: logger)
        let streamPreludes = try ListenerSetup.streamPreludes(configuration, logger: logger, observer: admin?.metrics ?? NoObserver())
        let upstreamTLS = try UpstreamTLSSetup(configuration, logger: logger)
        let accessLog = try Self.makeAccessLog(configuration.accessLog,
                                               reusing: (old.runtime.accessLog, old.accessLog))
        let upstreams = UpstreamSet(config: configuration, groups: runtime.upstreamGroups, eventLoopGroup: group,
                                    tls: upstreamTLS)
        let next = Generation(runtime: runtime, listeners: listeners, streamPreludes: streamPreludes, upstreams: upstreams, accessLog: accessLog,
                              healthChecker: HealthChecker())

        var summary = ReloadSummary()
        if configuration.acme != acme?.config { summary.needsRestart.append("acme: changed") }
        let adminMovedFrom = try await moveAdmin(to: configuration.admin, summary: &summary)
        let plan: StreamPlan
        do {
            plan = try await prepareStreams(observed(runtime.streams, preludes: streamPreludes), summary: &summary)
        } catch {
            await moveAdminBack(adminMovedFrom)
            throw error
        }
        do {
            let changes = try await http.listen(listeners, maxConnections: runtime.settings.maxConnections)
            summary.bound += changes.added
            summary.closed += changes.closed
        } catch {
            for listener in plan.added { await listener.stop() }
            await moveAdminBack(adminMovedFrom)
            throw error
        }

        // Commit: from here on nothing fails.
        let responder = runtime.makeRouter(upstreams: upstreams)
        http.update { state in
            state.settings = runtime.settings
            state.responder = Self.answeringChallenges(responder, acme)
            state.accessLog = accessLog
        }
        http.setMaxConnections(runtime.settings.maxConnections)
        for (listener, settings) in plan.updated { listener.update(settings) }
        streams.withLockedValue { $0 = plan.listeners }
        summary.closed += plan.removed.compactMap(\.address)
        for (listener, _) in plan.removed { await listener.stop() }
        current.withLockedValue { $0 = next }
        old.healthChecker.stop()
        Self.startHealthChecks(next, on: group)
        old.upstreams.retire()
        admin?.configure(routeLabels: responder.routes.map(\.label), upstreams: upstreams)
        admin?.metrics.configure(certificates: ListenerSetup.certificates(of: listeners))
        admin?.configure(cacheZones: runtime.cacheZones)
        return summary
    }

    /// A changed `admin.listen` moves the admin listener first (a bind failure refuses the
    /// reload with nothing changed); returns the address it left, for `moveAdminBack` if a later
    /// step fails. Adding or removing `admin:` is noted in the summary and left to a restart:
    /// whether the hot path reports to metrics at all is decided when the server starts.
    private func moveAdmin(to config: AdminConfig?, summary: inout ReloadSummary) async throws -> ListenAddress? {
        switch (admin, config) {
        case (nil, nil):
            return nil
        case (nil, .some):
            summary.needsRestart.append("admin: added")
            return nil
        case (.some, nil):
            summary.needsRestart.append("admin: removed")
            return nil
        case (.some(let admin), .some(let config)):
            let old = admin.configuredAddress
            guard config.listen != old else { return nil }
            let address = try await admin.move(to: config.listen)
            boundAdmin.withLockedValue { $0 = address }
            if let address { summary.bound.append(address) }
            return old
        }
    }

    private func moveAdminBack(_ previous: ListenAddress?) async {
        guard let previous, let admin else { return }
        do {
            let address = try await admin.move(to: previous)
            boundAdmin.withLockedValue { $0 = address }
        } catch {
            logger.error("reload failed and the admin listener could not return to \(previous): \(error)")
        }
    }

    /// Stream listeners for `wanted`: an existing listener on the same host and port is kept
    /// (its settings replaced at commit), others are bound now. On a bind failure the ones
    /// bound here are closed and the error is thrown.
    private func prepareStreams(_ wanted: [StreamSettings], summary: inout ReloadSummary) async throws -> StreamPlan {
        var unused = streams.withLockedValue { $0 }
        var plan = StreamPlan()
        for settings in wanted {
            if let i = unused.firstIndex(where: { $0.listener.host == settings.host && $0.listener.port == settings.port }) {
                let kept = unused.remove(at: i)
                plan.updated.append((kept.listener, settings))
                plan.listeners.append(kept)
                continue
            }
            let listener = StreamListener(group: group, settings: settings, logger: logger)
            do {
                let address = try await listener.start()
                plan.added.append(listener)
                plan.listeners.append((listener, address))
                summary.bound.append(address)
            } catch {
                for added in plan.added { await added.stop() }
                throw error
            }
        }
        plan.removed = unused
        return plan
    }

    private struct StreamPlan {
        var listeners: [(listener: StreamListener, address: SocketAddress?)] = []
        var updated: [(StreamListener, StreamSettings)] = []
        var added: [StreamListener] = []
        var removed: [(listener: StreamListener, address: SocketAddress?)] = []
    }
}
