import Counters
import Foundation

/// How the kernel benchmarks (`socprof bench`) time a piece of work: one warm-up call, then the
/// median of `repetitions` timed calls.
public struct KernelTiming: Sendable {
    /// Timed calls after the warm-up (at least 1).
    public let repetitions: Int

    public init(repetitions: Int) { self.repetitions = max(1, repetitions) }

    /// The median wall-clock time of `body`, s.
    public func medianSeconds(_ body: () -> Void) -> Double {
        body()
        var t: [Double] = []
        t.reserveCapacity(repetitions)
        for _ in 0..<repetitions {
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            t.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return Statistics.median(t) ?? 0
    }
}
