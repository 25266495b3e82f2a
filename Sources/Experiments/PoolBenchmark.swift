import Counters
import Foundation
import Kernels
import LinuxSystem

/// `socprof bench pool`'s measurement: the round trip of an empty job on a pool (wake the
/// workers, wait for all), back to back as layers follow each other, and after the pool has been
/// idle longer than its spin (its workers asleep: the kernel's wake-up latency, and in a VM the
/// hypervisor's). The JSON form is this value.
public struct PoolBenchmark: Codable, Sendable {
    public let threads: Int
    /// How long waiting workers spin before they sleep, µs.
    public let spin_us: Int
    /// Median over `timing.repetitions` batches of 2000 jobs back to back, µs per job.
    public let round_trip_us: Double
    /// Median over single jobs each after `idle_us` of idling, µs.
    public let after_idle_round_trip_us: Double
    /// The idle pause before each of those jobs, µs (twice the spin, at least 1000).
    public let idle_us: Int
    /// Jobs back to back per batch, and jobs after an idle pause.
    public let batch: Int
    public let idle_jobs: Int

    struct EmptyJob: PoolJob {
        static let function: ThreadPool.JobFunction = { _, _ in }
        func work(_ thread: Int) {}
    }

    public static func run(pool: ThreadPool, timing: KernelTiming) -> PoolBenchmark {
        var job = EmptyJob()
        let iterations = 2000
        let backToBack = timing.medianSeconds { for _ in 0..<iterations { pool.run(&job) } } / Double(iterations)
        let pause = UInt32(max(1000, pool.spinMicroseconds * 2))
        var wakes: [Double] = []
        for _ in 0..<max(20, timing.repetitions * 10) {
            usleep(pause)
            let t0 = MonotonicClock.nanoseconds()
            pool.run(&job)
            wakes.append(Double(MonotonicClock.nanoseconds() - t0) / 1e9)
        }
        return PoolBenchmark(threads: pool.count, spin_us: pool.spinMicroseconds, round_trip_us: backToBack * 1e6,
                             after_idle_round_trip_us: (Statistics.median(wakes) ?? 0) * 1e6, idle_us: Int(pause),
                             batch: iterations, idle_jobs: wakes.count)
    }
}
