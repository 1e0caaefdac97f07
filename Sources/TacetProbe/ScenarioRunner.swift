/// Runs one scenario on a fresh connection and records what happened. It never throws: a failure
/// to connect or write is part of the outcome, so a suite always completes within its timeouts.
struct ScenarioRunner {
    var target: ProbeTarget
    var options: ProbeOptions

    /// Over TLS, `ending` is how the scenario half-closes (`close_notify` when not given).
    /// `plan`: the scenario's own path and tag, when it has them (`ProbePlan`).
    func run(_ scenario: ProbeScenario, ending: TLSEnding? = nil, plan: ScenarioPlan = ScenarioPlan()) -> ScenarioOutcome {
        let (host, port, isTLS) = address(for: scenario)
        let client: RawClient
        var relayed: (any ProbeTLSConnection)?
        do {
            if isTLS {
                guard let tls = options.tls else { throw ProbeError("https needs a TLS connector (ProbeOptions.tls)") }
                let connection = try tls.connect(host: host, port: port, ending: ending ?? .closeNotify, timeout: options.timeout)
                relayed = connection
                client = connection.client
            } else {
                client = try RawClient.connect(host: host, port: port, timeout: options.timeout)
            }
        } catch {
            return ScenarioOutcome(scenario: scenario, end: .timeout, connectError: "\(error)")
        }
        client.writeTimeout = options.timeout
        var session = Session(client: client, scenario: scenario, options: options)
        perform(scenario, plan: plan, in: &session)
        var outcome = session.outcome()
        outcome.startMs = client.startMs
        outcome.tag = plan.tag
        outcome.path = plan.target?.path
        if let relayed {
            outcome.tlsEnding = scenario.halfCloses ? (ending ?? .closeNotify) : nil
            outcome.serverTLSEnding = relayed.serverEnding()
        }
        return outcome
    }

    private func address(for scenario: ProbeScenario) -> (String, Int, Bool) {
        switch target {
        case .tcp(let host, let port): return (host, port, false)
        case .http(let http):
            if scenario == .rejectBody, let reject = options.rejectTarget { return (reject.host, reject.port, reject.isTLS) }
            return (http.host, http.port, http.isTLS)
        }
    }

    private func perform(_ scenario: ProbeScenario, plan: ScenarioPlan, in session: inout Session) {
        let builder: RequestBuilder? = {
            if case .http(let http) = target { return RequestBuilder(target: plan.target ?? http, headers: options.headers) }
            return nil
        }()
        let method = options.method.uppercased()
        switch scenario {
        case .baseline:
            guard let builder else { return }
            session.send(builder.request(method: method), methods: [method])
            session.readResponses()
        case .halfClose:
            guard let builder else { return }
            session.send(builder.request(method: method), methods: [method])
            session.shutdownWrite()
            session.readResponses()
        case .pipelined:
            guard let builder else { return }
            let one = builder.request(method: method)
            session.send(one + one + one, methods: [method, method, method])
            session.shutdownWrite()
            session.readResponses()
        case .baselineBody, .body:
            guard let builder else { return }
            let bodyMethod = options.bodyMethod.uppercased()
            session.send(builder.request(method: bodyMethod, bodySize: options.bodySize) + RequestBuilder.body(size: options.bodySize),
                         methods: [bodyMethod])
            if scenario == .body { session.shutdownWrite() }
            session.readResponses()
        case .halfHeaders:
            guard let builder else { return }
            let whole = builder.request(method: method)
            session.send(Array(whole.prefix(whole.count / 2)), methods: [method])
            session.shutdownWrite()
            session.readResponses()
        case .idle:
            session.shutdownWrite()
            session.readResponses()
        case .rejectBody:
            guard let builder else { return }
            let rejectMethod = options.rejectMethod.uppercased()
            let override = plan.target == nil ? options.rejectTarget : nil
            let head = builder.request(method: rejectMethod, target: override, bodySize: options.rejectBodySize)
            session.send(head, methods: [rejectMethod])
            if session.writeError == nil { session.send(RequestBuilder.body(size: options.rejectBodySize), methods: []) }
            session.shutdownWrite()
            session.readResponses()
        case .close:
            guard let builder else { return }
            session.send(builder.request(method: method), methods: [method])
            if let tag = plan.tag, let origin = options.origin {
                // Close once the proxy has passed the request on: the question is what it does then.
                _ = origin.wait(tag: tag, timeout: options.timeout) { !$0.requests.isEmpty }
            }
            session.client.close()
        case .tcp:
            if let tag = plan.tag {
                session.send(Array(OriginTCPSession.greeting(tag: tag, delayMs: options.lateReplyMs).utf8), methods: [])
            }
            session.send(RequestBuilder.body(size: options.bodySize), methods: [])
            session.shutdownWrite()
            // With the origin the reply comes `lateReplyMs` after our FIN: wait that much longer.
            let late = plan.tag == nil ? 0 : Double(options.lateReplyMs) / 1000
            session.read = session.client.readToEnd(timeout: options.timeout + late)
        }
    }
}

/// A scenario's own request target and origin tag (`ProbePlan` makes them); empty: the probed URL.
struct ScenarioPlan: Sendable {
    var target: HTTPTarget?
    var tag: String?
}

/// The state of one scenario's connection while it runs.
private struct Session {
    let client: RawClient
    let scenario: ProbeScenario
    let options: ProbeOptions
    var writeError: RawClientError?
    var read: ReadResult?

    init(client: RawClient, scenario: ProbeScenario, options: ProbeOptions) {
        self.client = client
        self.scenario = scenario
        self.options = options
    }

    mutating func send(_ bytes: [UInt8], methods: [String]) {
        guard writeError == nil else { return }
        client.requestMethods += methods
        do { try client.write(bytes) } catch let error as RawClientError { writeError = error } catch {}
    }

    mutating func shutdownWrite() {
        guard writeError == nil else { return }
        do { try client.shutdownWrite() } catch let error as RawClientError { writeError = error } catch {}
    }

    /// Reads until the expected responses are whole, then waits `finWait` for the FIN that should follow.
    /// The baselines stop at their response: the connection is expected to stay open there.
    mutating func readResponses() {
        let first = client.readResponses(count: max(1, scenario.expectedResponses), timeout: options.timeout)
        guard first.end == .open, scenario != .baseline, scenario != .baselineBody else { read = first; return }
        let tail = client.readToEnd(timeout: options.finWait)
        read = ReadResult(bytes: first.bytes + tail.bytes, end: tail.end, elapsedMs: tail.elapsedMs)
    }

    func outcome() -> ScenarioOutcome {
        let parsed = HTTPResponseParser.parse(client.received, requestMethods: client.requestMethods,
                                              endedWithFIN: read?.end == .fin)
        let isHTTP = scenario != .tcp
        return ScenarioOutcome(
            scenario: scenario, timeline: client.timeline,
            responses: isHTTP ? parsed.responses.map(ResponseSummary.init) : [],
            end: read?.end ?? (scenario == .close ? .open : .timeout),
            bytesReceived: client.received.count,
            trailingBytes: isHTTP ? parsed.trailingBytes.count : 0,
            writeError: writeError?.description,
            writeFailedByReset: writeError.map { $0.isPeerReset || $0.isBrokenPipe } ?? false)
    }
}
