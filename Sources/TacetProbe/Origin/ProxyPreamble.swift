/// The length of a PROXY protocol header (v1 text or v2 binary) at the start of a connection to
/// the origin, so the origin can look past one a proxy sends first. Only the framing is read:
/// the origin does not care whom it names.
enum ProxyPreamble {
    enum Result: Equatable {
        /// Not a PROXY header.
        case none
        case needMore
        case length(Int)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    static func length(_ bytes: [UInt8]) -> Result {
        let v1 = Array("PROXY ".utf8)
        let prefix = min(bytes.count, 12)
        if prefix > 0, Array(bytes.prefix(min(prefix, 6))) == Array(v1.prefix(min(prefix, 6))) {
            guard let cr = bytes.prefix(108).firstIndex(of: 13) else { return bytes.count >= 108 ? .none : .needMore }
            guard cr + 1 < bytes.count else { return .needMore }
            return bytes[cr + 1] == 10 ? .length(cr + 2) : .none
        }
        if prefix > 0, Array(bytes.prefix(prefix)) == Array(v2Signature.prefix(prefix)) {
            guard bytes.count >= 16 else { return .needMore }
            let total = 16 + Int(bytes[14]) << 8 + Int(bytes[15])
            return bytes.count >= total ? .length(total) : .needMore
        }
        return .none
    }
}
