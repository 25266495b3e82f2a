import Counters

/// A set of CPU numbers: a cluster, the CPUs a thread may run on.
public struct CPUSet: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByArrayLiteral, Sequence {
    /// The CPUs, ascending and distinct.
    public let cpus: [Int]

    public init<S: Sequence>(_ cpus: S) where S.Element == Int { self.cpus = Array(Set(cpus)).sorted() }
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// Parses a cpulist ("0-3,6"), as `--cpus` and sysfs write them.
    public init(parsing text: String) throws(CPUListError) { self.init(try CPUList.parse(text)) }

    public var count: Int { cpus.count }
    public var isEmpty: Bool { cpus.isEmpty }
    public func contains(_ cpu: Int) -> Bool { cpus.contains(cpu) }
    public func isSubset(of other: CPUSet) -> Bool { Set(cpus).isSubset(of: other.cpus) }
    public func makeIterator() -> IndexingIterator<[Int]> { cpus.makeIterator() }

    /// The cpulist form ("0-3,6").
    public var description: String { CPUList.format(cpus) }

    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode([Int].self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(cpus)
    }
}
