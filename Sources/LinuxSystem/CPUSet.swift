/// A set of CPU numbers: a cluster, a PMU's CPUs, the CPUs a thread may run on.
///
/// Its text form is the kernel's cpulist ("0-3,6,8-9"), as in `/sys/devices/system/cpu/online`,
/// a core PMU's `cpus` file and `--cpus`.
public struct CPUSet: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral, Sequence {
    /// The CPUs, ascending and distinct.
    public let cpus: [Int]

    public init<S: Sequence>(_ cpus: S) where S.Element == Int { self.cpus = Array(Set(cpus)).sorted() }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Parses a cpulist ("0-3,6"); surrounding whitespace is ignored and empty text is the empty
    /// set. Throws `CPUListError` naming the bad part.
    public init(parsing text: String) throws(CPUListError) {
        let trimmed = text.trimmed()
        if trimmed.isEmpty { self.init([]); return }
        var cpus: [Int] = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let lo = Int(bounds[0]), lo >= 0,
                  let hi = bounds.count == 2 ? Int(bounds[1]) : lo, hi >= lo, hi - lo < 1 << 16
            else { throw CPUListError(text: String(trimmed), part: String(part)) }
            cpus.append(contentsOf: lo...hi)
        }
        self.init(cpus)
    }

    public var count: Int { cpus.count }
    public var isEmpty: Bool { cpus.isEmpty }
    public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }
    public func isSubset(of other: CPUSet) -> Bool { Set(cpus).isSubset(of: other.cpus) }
    public func makeIterator() -> IndexingIterator<[Int]> { cpus.makeIterator() }

    /// The cpulist form, with runs collapsed ("0-3,6"); empty text for the empty set.
    public var description: String {
        var parts: [String] = []
        var i = 0
        while i < cpus.count {
            var j = i
            while j + 1 < cpus.count && cpus[j + 1] == cpus[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cpus[i])" : "\(cpus[i])-\(cpus[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Encoded as an array of CPU numbers.
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode([Int].self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(cpus)
    }
}

/// A cpulist that does not parse.
public struct CPUListError: Error, Equatable, CustomStringConvertible {
    /// The whole text.
    public let text: String
    /// The comma-separated part that is wrong.
    public let part: String
    public var description: String { "bad CPU list '\(text)': '\(part)' is not a CPU number or a range like 0-3" }
}
