import CPerfEvent
import Foundation
import Kernels
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
        var cpus = [Int32](repeating: 0, count: 4096)
        let usable = Int(cpus.withUnsafeMutableBufferPointer { socprof_get_affinity(0, $0.baseAddress, 4096) })
        // More threads than CPUs: spinning would keep the awaited thread off its CPU.
        #expect(pool.spinMicroseconds == (threads > usable ? 0 : spin))
        let arrived = Mutex<[Int]>([Int](repeating: 0, count: 4))
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

    @Test("an idle pool sleeps: its worker uses almost no CPU between jobs; a pool told to spin for a second does")
    func idlePoolSleeps() throws {
        func idleCPU(spin: Int) throws -> Double {
            let pool = ThreadPool(threads: 2, spinMicroseconds: spin)
            let tid = Mutex<pid_t>(0)
            pool.run { t in if t == 1 { tid.withLock { $0 = socprof_gettid() } } }
            let worker = tid.withLock { $0 }
            let before = try #require(Self.cpuTime(tid: worker))
            usleep(300_000)
            let after = try #require(Self.cpuTime(tid: worker))
            return Double(after - before) / 1e6 // ms
        }
        let sleeping = try idleCPU(spin: 50)
        #expect(sleeping < 30, "the worker of an idle pool ran \(sleeping) ms in 300 ms")
        // The measurement sees spinning when there is some: the check above can fail.
        let spinning = try idleCPU(spin: 1_000_000)
        #expect(spinning > 60 && spinning > 3 * sleeping, "a worker spinning for 1 s ran only \(spinning) ms in 300 ms")
    }
}
