/// What to do with a `Range` request header (RFC 9110 §14.1.2, §14.2).
public enum RangeDecision: Sendable, Hashable {
    /// Ignore the header and serve the whole file with 200: no header, another unit,
    /// invalid syntax, several ranges, or nothing to slice.
    case none
    /// Serve bytes `start...endInclusive` with 206 (already clamped to the file).
    case satisfiable(start: Int, endInclusive: Int)
    /// Answer 416 with `Content-Range: bytes */size`.
    case unsatisfiable
}

/// Parsing of `Range: bytes=…` against a known file size.
///
/// Only one range is honoured: multipart/byteranges responses are rarely needed, cost
/// memory and invite amplification (`bytes=0-,0-,0-…`), and a server MAY ignore Range,
/// so several ranges are answered with the whole file. Invalid range sets are ignored
/// rather than rejected for the same reason (RFC 9110 allows either).
public enum ByteRange {
    /// Decides what a `Range` header value means for a file of `size` bytes.
    ///
    /// - `bytes=a-b`: `b` beyond the end is clamped; `a >= size` is unsatisfiable; `b < a` is invalid (ignored).
    /// - `bytes=a-`: from `a` to the end.
    /// - `bytes=-n`: the last `n` bytes (the whole file when `n >= size`); `-0` is unsatisfiable.
    /// - Empty files: an int-range can never be satisfied (416); a non-zero suffix range
    ///   would select zero bytes, which Content-Range cannot express, so it is ignored (200, empty).
    /// - Numbers too large for `Int` saturate: a huge `b` clamps, a huge `a` or `n` behaves as "past the end".
    /// - The unit is case-insensitive; OWS around list elements and empty list elements are allowed.
    public static func parse(_ header: String, size: Int) -> RangeDecision {
        let bytes = Array(header.utf8)
        var i = 0
        skipOWS(bytes, &i)
        let unit = Array("bytes=".utf8)
        guard bytes.count - i >= unit.count,
              zip(bytes[i..<(i + unit.count)], unit).allSatisfy({ ($0 | 0x20) == ($1 | 0x20) })
        else { return .none }
        i += unit.count

        // range-set = 1#range-spec; collect the non-empty elements.
        var specs: [ArraySlice<UInt8>] = []
        var start = i
        while i <= bytes.count {
            if i == bytes.count || bytes[i] == UInt8(ascii: ",") {
                let element = trimOWS(bytes[start..<i])
                if !element.isEmpty { specs.append(element) }
                start = i + 1
            }
            i += 1
        }
        guard specs.count == 1, let spec = specs.first else { return .none }
        return decide(spec, size: max(size, 0))
    }

    private static func decide(_ spec: ArraySlice<UInt8>, size: Int) -> RangeDecision {
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return .none }
        let firstDigits = spec[spec.startIndex..<dash]
        let lastDigits = spec[(dash + 1)...]
        if firstDigits.isEmpty {
            // suffix-range = "-" suffix-length
            guard let length = number(lastDigits) else { return .none }
            guard length > 0 else { return .unsatisfiable }
            guard size > 0 else { return .none }
            return .satisfiable(start: size - min(length, size), endInclusive: size - 1)
        }
        guard let first = number(firstDigits) else { return .none }
        var last = Int.max
        if !lastDigits.isEmpty {
            guard let value = number(lastDigits) else { return .none }
            guard value >= first else { return .none } // invalid int-range: ignore the header
            last = value
        }
        guard first < size else { return .unsatisfiable }
        return .satisfiable(start: first, endInclusive: min(last, size - 1))
    }

    /// 1*DIGIT, saturating at `Int.max` instead of overflowing.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for b in digits {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(b - UInt8(ascii: "0")))
            value = (o1 || o2) ? Int.max : sum
        }
        return value
    }

    private static func skipOWS(_ bytes: [UInt8], _ i: inout Int) {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    private static func trimOWS(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }
}
