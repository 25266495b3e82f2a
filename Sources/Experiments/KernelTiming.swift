import Counters
import Foundation
import LinuxSystem

/// How the kernel benchmarks (`socprof bench`) time a piece of work: one warm-up call, then
/// `repetitions` timed calls.
public struct KernelTiming: Sendable {
    /// Timed calls after the warm-up (at least 1).
    public let repetitions: Int

    public init(repetitions: Int) { self.repetitions = max(1, repetitions) }

    /// One timed call: wall-clock seconds, and the CPU seconds of the whole process meanwhile
    /// (all its threads). On a shared machine wall-clock time counts the time the threads
    /// waited for a CPU; CPU time does not.
    public struct Sample: Sendable {
        public let wall: Double
        public let cpu: Double
    }

    /// The median wall-clock time of `body`, s.
    public func medianSeconds(_ body: () -> Void) -> Double {
        Statistics.median(samples(body).map(\.wall)) ?? 0
    }

    /// Every timed call of `body`, in order.
    public func samples(_ body: () -> Void) -> [Sample] {
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        body()
        var t: [Sample] = []
        t.reserveCapacity(repetitions)
        for _ in 0..<repetitions {
            let c0 = cpuNow()
            let t0 = MonotonicClock.nanoseconds()
            body()
            t.append(Sample(wall: Double(MonotonicClock.nanoseconds() - t0) / 1e9, cpu: cpuNow() - c0))
        }
        return t
    }
}
