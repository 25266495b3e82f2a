import Counters
import Foundation
import LinuxSystem

/// How the kernel benchmarks (`socprof bench`) time a piece of work: warm-up calls (for
/// `firstWarmUpSeconds` the first time in a process, else one), then `repetitions` timed calls.
public struct KernelTiming: Sendable {
    /// Timed calls after the warm-up (at least 1).
    public let repetitions: Int

    public init(repetitions: Int) { self.repetitions = max(1, repetitions) }

    /// How long the first timing in a process warms up, s: CPUs that were idle take a while to
    /// come up to speed. On the Intel VM (family 6 model 0xcf) SGEMM 1024³ at 2 threads ran at
    /// 200-210 GFLOP/s over its first 20 calls (about 0.2 s) and 294-298 from then on, while
    /// numpy, timed right after it by `scripts/bench/gemm`, found both CPUs warm.
    public static let firstWarmUpSeconds = 0.3

    /// Whether a timing in this process has warmed up for `firstWarmUpSeconds` (benchmarks time
    /// from one thread, one piece of work at a time).
    nonisolated(unsafe) private static var warmed = false

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

    /// Calls `body` until `seconds` have passed since the first call began (at least once);
    /// returns how many calls it made.
    @discardableResult
    static func warmUp(seconds: Double, _ body: () -> Void) -> Int {
        let end = MonotonicClock.nanoseconds() + UInt64(max(0, seconds) * 1e9)
        var calls = 0
        repeat {
            body()
            calls += 1
        } while MonotonicClock.nanoseconds() < end
        return calls
    }

    /// Every timed call of `body`, in order.
    public func samples(_ body: () -> Void) -> [Sample] {
        func cpuNow() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        body()
        if !Self.warmed {
            Self.warmed = true
            Self.warmUp(seconds: Self.firstWarmUpSeconds, body)
        }
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
