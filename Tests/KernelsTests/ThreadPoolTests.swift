import Foundation
import Kernels
import LinuxSystem
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Thread pool: spin, then sleep")
struct ThreadPoolTests {
    /// Time a thread of this process has spent on a CPU, ns (`/proc/self/task/TID/schedstat`).
    static func cpuTime(tid: pid_t) -> UInt64? {
        guard let s = try? String(contentsOfFile: "/proc/self/task/\(tid)/schedstat", encoding: .utf8) else { return nil }
        return s.split(separator: " ").first.flatMap { UInt64($0) }
    }

    @Test("every thread passes every barrier together, whether waiting threads spin or sleep", arguments: [(3, 0), (2, 50), (2, 5000), (3, 5000)])
    func barriersHold(threads: Int, spin: Int) {
        let pool = ThreadPool(threads: threads, spinMicroseconds: spin)
        let usable = Affinity.current().count
        // More threads than CPUs: spinning would keep the awaited thread off its CPU.
        #expect(pool.spinMicroseconds == (threads > usable ? 0 : spin))
        // An NSLock (pthread mutex) rather than Synchronization's Mutex: ThreadSanitizer sees the
        // pthread lock's ordering, not the futex inside Mutex, and this test is run under it.
        let arrived = LockedBox([Int](repeating: 0, count: 4))
        let mismatches = Atomic<Int>(0)
        for _ in 0..<300 {
            arrived.withLock { $0 = [0, 0, 0, 0] }
            pool.run { _ in
                for phase in 0..<4 {
                    arrived.withLock { $0[phase] += 1 }
                    pool.barrier()
                    // Past the barrier, every thread has arrived at this phase and none at the next.
                    let seen = arrived.withLock { $0 }
                    if seen[phase] != threads || (phase + 1 < 4 && seen[phase + 1] > threads) { mismatches.add(1, ordering: .relaxed) }
                    pool.barrier()
                    if phase + 1 < 4 && arrived.withLock({ $0[phase + 1] }) != 0 { mismatches.add(1, ordering: .relaxed) }
                    pool.barrier()
                }
            }
            #expect(arrived.withLock { $0 } == [threads, threads, threads, threads])
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
    }

    @Test("claim hands out 0, 1, 2, ... each to exactly one thread, from 0 again in every job, one thread or several", arguments: [1, 2, 3])
    func claims(threads: Int) {
        let pool = ThreadPool(threads: threads)
        let chunks = 37
        for _ in 0..<200 {
            let taken = LockedBox([Int](repeating: 0, count: chunks))
            let byThread = LockedBox([Int](repeating: 0, count: threads))
            let overrun = Atomic<Int>(0)
            pool.run { t in
                while case let c = pool.claim(), c < chunks {
                    taken.withLock { $0[c] += 1 }
                    byThread.withLock { $0[t] += 1 }
                }
                // Past the end, every further claim is past it too.
                if pool.claim() < chunks { overrun.add(1, ordering: .relaxed) }
            }
            #expect(taken.withLock { $0 } == [Int](repeating: 1, count: chunks))
            #expect(byThread.withLock { $0 }.reduce(0, +) == chunks && overrun.load(ordering: .relaxed) == 0)
        }
    }

    @Test("a Claimer hands out each phase's indices once, phase after phase across barriers, whatever the counts", arguments: [1, 2, 3])
    func claimerPhases(threads: Int) {
        let pool = ThreadPool(threads: threads)
        let counts = [5, 0, 36, 1, 17]
        for _ in 0..<100 {
            let taken = LockedBox(counts.map { [Int](repeating: 0, count: $0) })
            pool.run { _ in
                var claims = pool.claimer()
                for (phase, n) in counts.enumerated() {
                    while let i = claims.next(below: n) { taken.withLock { $0[phase][i] += 1 } }
                    pool.barrier()
                }
            }
            #expect(taken.withLock { $0 } == counts.map { [Int](repeating: 1, count: $0) })
        }
    }

    @Test("a pool says how many of its threads the kernel refused to pin")
    func unpinnedThreadsAreCounted() throws {
        let saved = Affinity.current()
        try #require(!saved.isEmpty)
        // The caller is pinned too: give this test thread its CPUs back afterwards.
        defer { try? Affinity.pin(to: saved) }
        let refused = ThreadPool(threads: 3, cpus: [1023])   // no such CPU here: EINVAL for each thread
        #expect(refused.unpinnedThreads == 3)
        let pinned = ThreadPool(threads: 2, cpus: [saved.cpus[0]])
        #expect(pinned.unpinnedThreads == 0)
        #expect(ThreadPool(threads: 2).unpinnedThreads == 0)
    }

    /// How many times a thread of this process has blocked (gone to sleep):
    /// `voluntary_ctxt_switches` in `/proc/self/task/TID/status`. Yielding or being preempted does
    /// not count.
    static func sleeps(tid: pid_t) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/self/task/\(tid)/status", encoding: .utf8) else { return nil }
        return s.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
    }

    @Test("an idle pool sleeps: its worker blocks after the spin and uses almost no CPU")
    func idlePoolSleeps() throws {
        /// The worker's CPU time (ms) and how often it blocked, over 300 ms after a job; the
        /// first reading is taken by the worker itself at the end of the job.
        func idle(spin: Int) throws -> (cpuMs: Double, blocked: Int) {
            let pool = ThreadPool(threads: 2, spinMicroseconds: spin)
            let start = Mutex<(tid: pid_t, cpu: UInt64, sleeps: Int)>((0, 0, 0))
            pool.run { t in
                guard t == 1 else { return }
                let tid = ThreadID.current()
                // The CPU time last: reading and parsing /proc costs CPU time of its own (tens of
                // ms in the emulated arm64 board's debug build), which belongs before the window.
                let sleeps = Self.sleeps(tid: tid) ?? -1
                start.withLock { $0 = (tid, Self.cpuTime(tid: tid) ?? 0, sleeps) }
            }
            usleep(300_000)
            let s = start.withLock { $0 }
            let cpu = try #require(Self.cpuTime(tid: s.tid)), sleeps = try #require(Self.sleeps(tid: s.tid))
            try #require(s.sleeps >= 0)
            return (Double(cpu - s.cpu) / 1e6, sleeps - s.sleeps)
        }
        let sleeping = try idle(spin: 50)
        #expect(sleeping.blocked >= 1, "the worker of an idle pool never went to sleep")
        #expect(sleeping.cpuMs < 30, "the worker of an idle pool ran \(sleeping.cpuMs) ms in 300 ms")
        // A pool that spun instead of sleeping would fail both checks: it would never block,
        // and it would run for most of the 300 ms when the machine is idle. (Not asserted for a
        // spinning pool: under the parallel test load it is preempted, and a lock in the
        // allocator can block it once.)
    }
}

/// A value behind an NSLock, with Mutex's `withLock` shape.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value // guarded by `lock`
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
