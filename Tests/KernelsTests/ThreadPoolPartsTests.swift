import Foundation
@testable import Kernels
import Networks
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A kernel's job: its parts taken by whichever thread comes, so that the caller does not wait
/// for a worker that is not running (`ThreadPool.lateWorkers` makes the workers late, or keeps
/// them away, as a busy process on their CPU would).
@Suite("Thread pool: parts taken by the threads that come", .serialized)
struct ThreadPoolPartsTests {
    /// Records which thread ran each part of each job.
    struct Recorder: PoolJob {
        let runs: UnsafeMutablePointer<Atomic<Int>>
        let runners: UnsafeMutablePointer<UInt>
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: Recorder.self).pointee.work(t) }
        func work(_ part: Int) {
            runs[part].add(1, ordering: .relaxed)
            runners[part] = UInt(pthread_self())
        }
    }

    @Test("every part of a kernel's job runs once; with the workers away, all on the calling thread",
          arguments: [(1, 0), (2, 0), (3, 0), (2, 200), (3, 200), (2, -1), (3, -1)])
    func partsOnce(threads: Int, late: Int) {
        let pool = ThreadPool(threads: threads)
        pool.lateWorkers.store(late, ordering: .relaxed)
        let runs = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: threads)
        let runners = UnsafeMutablePointer<UInt>.allocate(capacity: threads)
        defer { runs.deallocate(); runners.deallocate() }
        let me = UInt(pthread_self())
        var onCaller = 0, total = 0
        for _ in 0..<200 {
            for p in 0..<threads { (runs + p).initialize(to: Atomic(0)) }
            var job = Recorder(runs: runs, runners: runners)
            pool.run(&job)
            for p in 0..<threads {
                #expect(runs[p].load(ordering: .relaxed) == 1, "part \(p) of \(threads), workers late by up to \(late) µs")
                if runners[p] == me { onCaller += 1 }
                total += 1
            }
        }
        if late < 0 || threads == 1 { #expect(onCaller == total, "\(onCaller) of \(total) parts on the caller") }
    }

    /// A job in phases: each thread claims the phase's indices, then waits at the barrier; counts
    /// what each phase handed out and how many threads passed each barrier together.
    struct Phases: PoolJob {
        let pool: ThreadPool
        let counts: [Int]
        let taken: UnsafeMutablePointer<Atomic<Int>>   // by phase, then index
        let offsets: [Int]
        let arrivals: UnsafeMutablePointer<Atomic<Int>> // by phase
        let mismatches: UnsafeMutablePointer<Atomic<Int>>
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: Phases.self).pointee.work(t) }
        func work(_ part: Int) {
            var claims = pool.claimer()
            for (phase, n) in counts.enumerated() {
                while let i = claims.next(below: n) { taken[offsets[phase] + i].add(1, ordering: .relaxed) }
                arrivals[phase].add(1, ordering: .relaxed)
                pool.barrier()
                // Past the barrier, every thread of the team has arrived here and none further.
                let here = arrivals[phase].load(ordering: .relaxed)
                let next = phase + 1 < counts.count ? arrivals[phase + 1].load(ordering: .relaxed) : 0
                if here == 0 || here > pool.count || next != 0 { mismatches.pointee.add(1, ordering: .relaxed) }
                pool.barrier()
            }
        }
    }

    @Test("a job with barriers runs with the threads that came: each phase's indices once, the team together at every barrier",
          arguments: [(2, 0), (3, 0), (2, 100), (3, 100), (2, -1), (3, -1)])
    func teams(threads: Int, late: Int) {
        let pool = ThreadPool(threads: threads)
        pool.lateWorkers.store(late, ordering: .relaxed)
        let counts = [5, 0, 36, 1, 17]
        let offsets = counts.indices.map { counts[..<$0].reduce(0, +) }
        let total = counts.reduce(0, +)
        let taken = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: total)
        let arrivals = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: counts.count)
        let mismatches = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 1)
        defer { taken.deallocate(); arrivals.deallocate(); mismatches.deallocate() }
        mismatches.initialize(to: Atomic(0))
        var teamOfOne = 0
        for _ in 0..<100 {
            for i in 0..<total { (taken + i).initialize(to: Atomic(0)) }
            for p in counts.indices { (arrivals + p).initialize(to: Atomic(0)) }
            var job = Phases(pool: pool, counts: counts, taken: taken, offsets: offsets, arrivals: arrivals, mismatches: mismatches)
            pool.run(&job)
            #expect((0..<total).allSatisfy { taken[$0].load(ordering: .relaxed) == 1 }, "workers late by up to \(late) µs")
            let team = arrivals[0].load(ordering: .relaxed)
            #expect(counts.indices.allSatisfy { arrivals[$0].load(ordering: .relaxed) == team } && (1...threads).contains(team))
            if team == 1 { teamOfOne += 1 }
        }
        #expect(mismatches.pointee.load(ordering: .relaxed) == 0)
        if late < 0 { #expect(teamOfOne == 100) }
    }

    /// A job in phases that takes each phase's units with `forEachClaimedChunk` (or, for the
    /// last phase, elements with `forEachClaimedBlock`) and records every range it was handed.
    struct Ranges: PoolJob {
        let pool: ThreadPool
        let counts: [Int]
        let elements: Int
        let ranges: LockedBox<[[Range<Int>]]>
        static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: Ranges.self).pointee.work(t) }
        func work(_ part: Int) {
            for (phase, n) in counts.enumerated() {
                pool.forEachClaimedChunk(of: n) { r in ranges.withLock { $0[phase].append(r) } }
                pool.barrier()
            }
            pool.forEachClaimedBlock(of: elements) { r in ranges.withLock { $0[counts.count].append(r) } }
        }
    }

    @Test("forEachClaimedChunk hands out 0 ..< n once, in ranges that shrink with what is left (a 2 x threads-th, at least a 16 x threads-th of n); forEachClaimedBlock in whole 1 KB units",
          arguments: [(1, 0), (2, 0), (3, 0), (4, 0), (2, 100), (3, 100), (2, -1)])
    func guidedChunks(threads: Int, late: Int) {
        let pool = ThreadPool(threads: threads)
        pool.lateWorkers.store(late, ordering: .relaxed)
        let counts = [0, 1, 5, 86, 1000, 3]
        let elements = 5 * ThreadPool.elementBlock + 17
        for _ in 0..<50 {
            let box = LockedBox([[Range<Int>]](repeating: [], count: counts.count + 1))
            var job = Ranges(pool: pool, counts: counts, elements: elements, ranges: box)
            pool.run(&job)
            let ranges = box.withLock { $0 }
            for (phase, n) in (counts + [elements]).enumerated() {
                let sorted = ranges[phase].sorted { $0.lowerBound < $1.lowerBound }
                // Contiguous, no gap, no overlap, nothing empty, ending at n.
                var next = 0
                for r in sorted {
                    #expect(r.lowerBound == next && !r.isEmpty, "phase \(phase) of \(threads) threads: \(sorted)")
                    next = r.upperBound
                }
                #expect(next == n, "phase \(phase) of \(threads) threads covers 0..<\(next), not 0..<\(n)")
                if phase == counts.count {
                    let unit = ThreadPool.elementBlock
                    #expect(sorted.allSatisfy { $0.lowerBound % unit == 0 && ($0.upperBound % unit == 0 || $0.upperBound == n) })
                } else if threads == 1 {
                    #expect(sorted == (n == 0 ? [] : [0..<n]))
                } else {
                    let least = max(1, n / (16 * threads))
                    #expect(sorted.allSatisfy { $0.count == min(n - $0.lowerBound, max(least, (n - $0.lowerBound) / (2 * threads))) },
                            "phase \(phase): \(sorted)")
                }
            }
        }
    }

    @Test("networks give the same bytes whether the workers come late, never, or on time",
          arguments: ["resnet50", "mobilenet", "googlenet"])
    func networks(name: String) throws {
        let fp32 = try #require(NetworkCatalog.network(named: name))
        let q = fp32.quantized(.int8)
        let calibration = NetworkRunner(network: q, pool: ThreadPool(threads: 1), seed: 2, calibrationImages: 1).quantization
        var fp32Outputs: [[Float]] = [], int8Outputs: [[UInt8]] = []
        for late in [0, -1, 300] {
            let pool = ThreadPool(threads: 2)
            pool.lateWorkers.store(late, ordering: .relaxed)
            let a = NetworkRunner(network: fp32, pool: pool, seed: 2)
            a.setDeterministicInput(seed: 5)
            fp32Outputs.append(Array(a.run()))
            let b = NetworkRunner(network: q, pool: pool, seed: 2, quantization: calibration)
            b.setDeterministicInput(seed: 5)
            var bytes: [UInt8] = []
            b.run(afterLayer: { i in if q.layers[i].precision == .int8 { bytes += b.int8Output(of: i) } })
            int8Outputs.append(bytes)
        }
        #expect(fp32Outputs[1] == fp32Outputs[0] && fp32Outputs[2] == fp32Outputs[0], "\(name) fp32")
        #expect(int8Outputs[1] == int8Outputs[0] && int8Outputs[2] == int8Outputs[0], "\(name) int8")
    }
}
