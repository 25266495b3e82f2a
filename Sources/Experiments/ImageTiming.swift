import Counters
import Foundation
import LinuxSystem

/// `socprof run`'s measurement: the time of each image, and what is reported of them.
public enum ImageTiming {
    /// Runs `image` up to `iterations` times and returns each run's wall-clock time, s. Stops
    /// before an image when `shouldStop` says so (the times so far are kept). `progress` gets the
    /// images done and the last one's time at most every `progressEvery` seconds.
    public static func times(iterations: Int, shouldStop: () -> Bool = { false }, progressEvery: Double = 2,
                             progress: (Int, Double) -> Void = { _, _ in }, image: () -> Void) -> [Double] {
        var times: [Double] = []
        times.reserveCapacity(iterations)
        var lastReport = MonotonicClock.nanoseconds()
        for i in 0..<iterations where !shouldStop() {
            let t0 = MonotonicClock.nanoseconds()
            image()
            let t1 = MonotonicClock.nanoseconds()
            times.append(Double(t1 - t0) / 1e9)
            if Double(t1 - lastReport) > progressEvery * 1e9 {
                progress(i + 1, times[times.count - 1])
                lastReport = t1
            }
        }
        return times
    }
}

/// Image times summarised as `socprof run` reports them, ms: the median (the mean of the two
/// middle images for an even count) and its images/s, the extremes, and the nearest-rank 10th
/// and 90th percentiles.
public struct ImageTimeSummary: Sendable, Equatable {
    public let images: Int
    public let medianMs: Double
    public let minMs: Double
    public let maxMs: Double
    public let p10Ms: Double
    public let p90Ms: Double
    /// 1 / the median time.
    public var imagesPerSecond: Double { 1e3 / medianMs }

    /// nil without an image.
    public init?(seconds times: [Double]) {
        let s = times.sorted()
        guard let median = Statistics.median(s), let p10 = Statistics.quantile(sorted: s, 0.1), let p90 = Statistics.quantile(sorted: s, 0.9) else { return nil }
        images = s.count
        medianMs = median * 1e3
        minMs = s[0] * 1e3
        maxMs = s[s.count - 1] * 1e3
        p10Ms = p10 * 1e3
        p90Ms = p90 * 1e3
    }
}
