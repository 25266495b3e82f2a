/// The statistics socprof reports, in one place: medians for profiles and throughput, perf's
/// mean and relative standard error for `stat`.
public enum Statistics {
    /// The median; for an even count the mean of the two middle values. nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let m = s.count / 2
        return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
    }

    /// The nearest-rank quantile `f` (0...1) of values sorted in increasing order: the value at
    /// index round(f x (n - 1)). nil when empty.
    public static func quantile(sorted values: [Double], _ f: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        return values[min(values.count - 1, max(0, Int(f * Double(values.count - 1) + 0.5)))]
    }

    /// The arithmetic mean; nil when empty.
    public static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// perf stat's "+- x%": the standard error of the mean (sample standard deviation over
    /// sqrt(n)) as a percentage of the mean's magnitude. nil for fewer than two values or a zero
    /// mean.
    public static func relativeStandardErrorPercent(_ values: [Double]) -> Double? {
        guard values.count > 1, let m = mean(values), m != 0 else { return nil }
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)
        return 100 * (variance / Double(values.count)).squareRoot() / abs(m)
    }
}
