import NIOCore
import TacetConfig
import TacetHTTP
import TacetStream

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `tacet check` adds to validation, as `nginx -t` does: what `serve` would open is opened
/// once and let go. Every listen address is bound: one that cannot be (not on this host, a
/// privileged port, a name that does not resolve) is an error; one already in use is only
/// reported, since a running Tacet holds its own addresses. An access log file is opened for
/// appending (and so created, as nginx -t creates its logs).
public enum StartupCheck {
    public struct Outcome: Sendable {
        /// One per address that cannot be bound or log that cannot be opened, naming file and key.
        public var errors: [ConfigError] = []
        /// `key address` of each address in use now.
        public var inUse: [String] = []
    }

    public static func run(_ configuration: TacetConfiguration, file: String) -> Outcome {
        var addresses: [(key: String, address: ListenAddress)] = []
        for (i, address) in configuration.listen.enumerated() { addresses.append(("listen[\(i)]", address)) }
        for (i, stream) in configuration.streams.enumerated() { addresses.append(("streams[\(i)].listen", stream.listen)) }
        if let admin = configuration.admin { addresses.append(("admin.listen", admin.listen)) }
        var outcome = Outcome()
        func fail(_ key: String, _ message: String) {
            outcome.errors.append(ConfigError(file: file, line: 0, column: 0, keyPath: key, message: message))
        }
        for (key, address) in addresses {
            let resolved: SocketAddress
            do {
                resolved = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
            } catch {
                fail(key, "cannot resolve \(address.host)")
                continue
            }
            do {
                _ = try BoundSocket.probe(resolved, description: address.description)
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                outcome.inUse.append("\(key) \(address)")
            } catch let error as IOError {
                fail(key, "cannot bind \(address): \(String(cString: strerror(error.errnoCode)))")
            } catch {
                fail(key, "cannot bind \(address): \(error)")
            }
        }
        if case .file(let path) = configuration.accessLog.destination {
            do {
                _ = try AccessLog(path: path)
            } catch {
                fail("access_log", "\(error)")
            }
        }
        return outcome
    }
}
