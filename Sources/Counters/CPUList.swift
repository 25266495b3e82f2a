import Foundation

/// The kernel's cpulist format ("0-3,6,8-9"), as in `/sys/devices/system/cpu/online` and a core
/// PMU's `cpus` file.
public enum CPUList {
    /// Parses a cpulist into sorted, distinct CPU numbers. Empty text gives an empty list.
    /// Throws `CPUListError` naming the bad part.
    public static func parse(_ text: String) throws(CPUListError) -> [Int] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        var cpus = Set<Int>()
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let lo = Int(bounds[0]), lo >= 0,
                  let hi = bounds.count == 2 ? Int(bounds[1]) : lo, hi >= lo, hi - lo < 1 << 16
            else { throw CPUListError(text: trimmed, part: String(part)) }
            for c in lo...hi { cpus.insert(c) }
        }
        return cpus.sorted()
    }

    /// Formats CPU numbers as a cpulist, with runs collapsed ("0-3,6").
    public static func format<S: Sequence>(_ cpus: S) -> String where S.Element == Int {
        let sorted = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
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
