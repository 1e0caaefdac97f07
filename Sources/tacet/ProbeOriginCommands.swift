import ArgumentParser
import Foundation
import TacetProbe

/// `tacet probe origin`: the probe's origin alone, for a proxy under test to point at while a
/// probe elsewhere on this machine reads what it saw (`tacet probe --use-origin`).
struct OriginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "origin",
        abstract: "Run the probe's origin: HTTP paths /fast, /slow?ms=N, /echo?ms=N, /large?bytes=N, /reject; a TCP service that replies after the client's EOF.",
        discussion: """
            Every request carrying a tacet=TAG query parameter (and every TCP connection whose first \\
            line is TACET-PROBE TAG MS) is recorded: what arrived, what was answered, and when and how \\
            the proxy ended the connection. GET /_tacet/seen?tag=TAG returns it as JSON. Runs until \\
            interrupted.
            """)

    @Option(help: ArgumentHelp("HTTP address.", valueName: "host:port"))
    var listen: String = "127.0.0.1:9000"

    @Option(name: .customLong("tcp-listen"), help: ArgumentHelp("TCP service address (default: the HTTP port + 1).", valueName: "host:port"))
    var tcpListen: String?

    func run() throws {
        do {
            let (host, port) = try ProbeRunCommand.hostPort(listen, "--listen")
            let tcpPort = try tcpListen.map { try ProbeRunCommand.hostPort($0, "--tcp-listen").1 }
            let origin = try ProbeOrigin(host: host, httpPort: port, tcpPort: tcpPort)
            FileHandle.standardOutput.write(Data("tacet probe origin: http \(host):\(origin.httpPort), tcp \(host):\(origin.tcpPort)\n".utf8))
            while true { pause() }
        } catch let error as ProbeError {
            FileHandle.standardError.write(Data("tacet probe origin: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// `tacet probe explain`: each scenario, what a conforming server does and the clause, and what
/// each verdict means.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain the probe's scenarios and verdicts.")

    func run() {
        print(Self.text)
    }

    static var text: String {
        var lines = ["SCENARIOS (each on its own connection; over https each one that half-closes runs with close_notify and with a bare FIN)", ""]
        for scenario in ProbeScenario.allCases {
            lines.append("  \(scenario.rawValue): \(scenario.summary)")
            lines.append("      conforming: \(scenario.conforming)")
        }
        lines += ["", "VERDICTS (✗: does not conform; exit code 1 unless --allow names it)", ""]
        for kind in Verdict.Kind.allCases {
            let mark = kind.conforms == false ? "✗" : kind.conforms == nil ? "?" : " "
            lines.append("  \(mark) \(kind.rawValue): \(kind.meaning)")
        }
        lines += ["", "RFC 9112 §9.6: a half-close \"does not delimit a request message, nor does it imply that the client is no",
                  "longer interested in a response\"; a server closes in stages so that no RST destroys its last response.",
                  "Exit codes: 0 every scenario conforms; 1 one does not (named on stderr); 2 could not test."]
        return lines.joined(separator: "\n")
    }
}
