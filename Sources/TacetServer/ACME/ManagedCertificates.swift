import Foundation
import NIOConcurrencyHelpers
import TacetTLS

/// Where a listener's `tls.acme` names get their certificates: the ACME manager's store, or
/// (for `tacet check`, and until the CA's certificate arrives) a self-signed stand-in.
public protocol ManagedCertificates: Sendable {
    func certificate(for name: String) throws -> LoadedCertificate
    /// tls-alpn-01 challenge certificates, which listeners with managed names answer first.
    var alpnChallenges: (any ALPNChallengeCertificates)? { get }
}

extension ManagedCertificates {
    public var alpnChallenges: (any ALPNChallengeCertificates)? { nil }
}

/// Self-signed stand-ins, one per name for the life of the process (so a reload does not
/// change what a client that pinned it sees), valid for 7 days.
final class StandInCertificates: ManagedCertificates {
    static let shared = StandInCertificates()
    private let made = NIOLockedValueBox<[String: LoadedCertificate]>([:])

    func certificate(for name: String) throws -> LoadedCertificate {
        if let made = made.withLockedValue({ $0[name] }) { return made }
        let certificate = try SelfSignedCertificate(days: 7, names: [name])
        let loaded = try LoadedCertificate(certificatePEM: certificate.certificatePEM, keyPEM: certificate.keyPEM,
                                           name: "(stand-in for \(name) until the CA's certificate arrives)")
        return made.withLockedValue { made in
            if let first = made[name] { return first }
            made[name] = loaded
            return loaded
        }
    }
}
