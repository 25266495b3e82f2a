import LinuxSystem

/// One field of a PMU's `format/` directory: which bits of `config`, `config1` or `config2` a
/// term sets, e.g. `event` = `config:0-15`, `long` = `config1:0`, `umask` = `config:8-15`.
public struct PMUFormatField: Hashable, Sendable, CustomStringConvertible {
    /// 0 for `config`, 1 for `config1`, 2 for `config2`, 3 for `config3`.
    public let word: Int
    /// Bit ranges, low to high as written; a value's low bits fill the first range first.
    public let ranges: [ClosedRange<Int>]

    /// Parses the text of a format file ("config:0-7,32-35"); nil when it is not one.
    public init?(parsing text: String) {
        let t = String(text.trimmed())
        guard let colon = t.firstIndex(of: ":") else { return nil }
        switch t[..<colon] {
        case "config": word = 0
        case "config1": word = 1
        case "config2": word = 2
        case "config3": word = 3
        default: return nil
        }
        var ranges: [ClosedRange<Int>] = []
        for part in t[t.index(after: colon)...].split(separator: ",") {
            let b = part.split(separator: "-")
            guard b.count == 1 || b.count == 2, let lo = Int(b[0]), let hi = b.count == 2 ? Int(b[1]) : lo,
                  lo >= 0, hi >= lo, hi < 64 else { return nil }
            ranges.append(lo...hi)
        }
        guard !ranges.isEmpty else { return nil }
        self.ranges = ranges
    }

    /// The number of bits the field has.
    public var width: Int { ranges.reduce(0) { $0 + $1.count } }

    /// Places `value` into its bits; nil when it does not fit in the field.
    public func encode(_ value: UInt64) -> UInt64? {
        if width < 64 && value >> UInt64(width) != 0 { return nil }
        var out: UInt64 = 0
        var v = value
        for r in ranges {
            let n = r.count
            let mask: UInt64 = n == 64 ? ~0 : (1 << UInt64(n)) - 1
            out |= (v & mask) << UInt64(r.lowerBound)
            v = n == 64 ? 0 : v >> UInt64(n)
        }
        return out
    }

    public var description: String {
        (word == 0 ? "config" : "config\(word)") + ":" +
            ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}
