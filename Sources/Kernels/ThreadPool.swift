import CLinux
import LinuxSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Worker threads pinned to a set of CPUs (a cluster), that run one job at a time, a barrier at
/// each layer boundary. No allocation per job.
///
/// A kernel's job (`run(&job)`) has `count` parts, 0 ..< count, and each thread that comes, the
/// caller first, takes the next part not yet taken until none is left: every part runs once, on
/// whichever thread took it, and `run` returns when the parts are done. A worker that is not
/// running when a job starts (its CPU shared with another process, a vCPU the host has taken
/// away) finds nothing left and the caller does not wait for it: it has done that part itself.
/// A job that calls `barrier()` runs with the threads that have taken a part by the first
/// barrier (its team), and gives up the parts nobody has taken: such a job must take all of its
/// work with `claim()`, never by part. `run { t in ... }` (setup and measurements that must run
/// on each thread, on its own CPU) runs part t on thread t and waits for every thread.
///
/// Waiting: a thread that has nothing to do (a worker between jobs, the caller waiting for the
/// workers, a thread at `barrier()`) first spins for at most `spinMicroseconds` (with the CPU's
/// spin-wait hint), then sleeps on a condition variable. During inference the next layer's job
/// arrives within the spin, so a layer boundary costs neither a wake-up (tens of microseconds on
/// some systems) nor two context switches; an idle pool sleeps and uses no CPU. A spinning thread
/// does not yield its CPU: under Linux's CFS, sched_yield hands the rest of the time slice to
/// any other runnable task on that CPU, milliseconds, and a pool that yielded took 7x as long
/// with a busy process beside its second thread (docs/kernels.md, "Thread pool").
// Sendable: the job, its context and the hook are published before the release store of `parts`
// or `state` that the threads acquire; `count` and `startFailure` are set once in `init`.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads, the caller included: those asked for, or fewer when the system would
    /// not start more (`startFailure` says why). Set once in `init`.
    public private(set) var count: Int
    /// Why fewer threads than asked for were started (pthread_create's error), or nil.
    public private(set) var startFailure: String? = nil
    /// The CPUs each thread is pinned to (thread i to `cpus[i % cpus.count]`), or empty: unpinned.
    public let cpus: [Int]
    /// How long a waiting thread spins before it sleeps, µs (0: sleep at once). The default,
    /// 200 µs, covers the gap between two layers, and most of a VM's short stalls of the thread
    /// being waited for; `SOCPROF_SPIN_US` in the environment overrides it.
    /// 0 whenever the pool has more threads than CPUs to run them: a spinning thread would then
    /// hold the CPU that the thread it waits for needs.
    public let spinMicroseconds: Int

    /// The default spin: `SOCPROF_SPIN_US` when set to a number from 0 to 1,000,000, else 200 µs.
    /// With 50 µs, MobileNet int8 at 2 threads on the Zen 3 VM slept (and was woken) 0.4-1.4
    /// times an image, the worker more than the caller; with 200 µs 0.05 (fp32: 0.4 and 0.07;
    /// voluntary context switches of each thread over 5 s of `run mobilenet --threads 2`).
    public static var defaultSpinMicroseconds: Int {
        if let v = getenv("SOCPROF_SPIN_US").flatMap({ Int(String(cString: $0)) }), (0...1_000_000).contains(v) { return v }
        return 200
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The job's number x 2, + 1 for a job run on every thread (`run(_ body:)`); set (under
    /// `mutex`, with release ordering) to hand out a job; spinning workers watch it.
    private let state = Atomic<Int>(0)
    /// Workers still running an every-thread job.
    private let pending = Atomic<Int>(0)
    /// The next part of the current job to take; `closed` added when a barrier closes the team
    /// (and from the start in every-thread jobs), so that later takers get nothing.
    private let parts = Atomic<Int>(0)
    /// Parts of the current job not finished (given-up parts of a closed team count as finished).
    private let unfinished = Atomic<Int>(0)
    /// The threads that run the current job's barriers: 0 until the first barrier closes the team.
    private let team = Atomic<Int>(0)
    /// Added to `parts` to close a job to later takers; far above any thread count, and an Int on
    /// 32-bit ARM too.
    private static let closed = 1 << 24
    /// A job without a closure: a C function and a pointer to its context (a struct on the
    /// caller's stack), so that running one allocates nothing.
    public typealias JobFunction = @convention(c) (UnsafeMutableRawPointer?, Int) -> Void
    private var jobFunction: JobFunction? = nil
    private var jobContext: UnsafeMutableRawPointer? = nil
    private var stopping = false
    private var endHook: JobFunction? = nil
    private var endHookContext: UnsafeMutableRawPointer? = nil
    private let barrierMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let barrierCond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let barrierCount = Atomic<Int>(0)
    private let barrierGeneration = Atomic<Int>(0)
    private var workers: [pthread_t] = []
    /// Threads whose pinning the kernel refused.
    private let pinFailures = Atomic<Int>(0)
    /// The next index `claim()` hands out in the current job.
    private let claims = Atomic<Int>(0)
    /// For tests: how late the workers come to a kernel's job, µs: each worker waits a random
    /// 0 ..< `lateWorkers` before taking parts (0: not at all), or never takes any (-1), as a
    /// worker whose CPU is busy with another process.
    let lateWorkers = Atomic<Int>(0)

    /// Threads (the caller included) that could not be pinned to their CPU: sched_setaffinity
    /// refused it (a CPU offline, absent or outside this process's cpuset). They run wherever the
    /// kernel puts them, so a caller that promised a cluster should stop. 0 when `cpus` is empty.
    public var unpinnedThreads: Int { pinFailures.load(ordering: .acquiring) }

    /// Starts `threads - 1` workers and, when `cpus` is given, pins them and the calling thread
    /// (which runs index 0 of every job and keeps the pinning after the pool is gone).
    /// `spinMicroseconds`: how long a waiting thread spins before sleeping.
    public init(threads: Int, cpus: [Int] = [], spinMicroseconds: Int = ThreadPool.defaultSpinMicroseconds) {
        precondition(threads >= 1, "a pool needs at least one thread")
        count = threads
        self.cpus = cpus
        let usable = cpus.isEmpty ? Affinity.usableCount() : Set(cpus).count
        self.spinMicroseconds = threads > usable ? 0 : max(0, spinMicroseconds)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        pthread_mutex_init(barrierMutex, nil)
        pthread_cond_init(barrierCond, nil)
        if !cpus.isEmpty && !Affinity.pin(cpu: cpus[0]) { pinFailures.add(1, ordering: .releasing) }
        for i in 1..<max(1, threads) {
            let box = Unmanaged.passRetained(WorkerStart(pool: Unmanaged.passUnretained(self), index: i))
            var t = pthread_t()
            let r = pthread_create(&t, nil, { arg in
                let start = Unmanaged<WorkerStart>.fromOpaque(arg!).takeRetainedValue()
                // A guaranteed reference, not a retain: the workers must not keep the pool alive
                // (deinit stops and joins them).
                start.pool._withUnsafeGuaranteedRef { $0.workerLoop(start.index) }
                return nil
            }, box.toOpaque())
            if r != 0 {
                // Out of memory or over a thread limit: run with the threads there are, and say so.
                box.release()
                startFailure = "pthread_create failed for thread \(i + 1) of \(threads): \(String(cString: strerror(r))) (memory, or a limit on threads such as ulimit -u)"
                break
            }
            workers.append(t)
        }
        count = workers.count + 1
        // Every worker pins itself before it takes a job: after one, `unpinnedThreads` is final.
        if !cpus.isEmpty && threads > 1 { run { _ in } }
    }

    final class WorkerStart {
        let pool: Unmanaged<ThreadPool>
        let index: Int
        init(pool: Unmanaged<ThreadPool>, index: Int) { self.pool = pool; self.index = index }
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        state.add(2, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in workers { pthread_join(t, nil) }
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        mutex.deallocate()
        wake.deallocate()
        done.deallocate()
        pthread_mutex_destroy(barrierMutex)
        pthread_cond_destroy(barrierCond)
        barrierMutex.deallocate()
        barrierCond.deallocate()
    }

    /// Monotonic clock, ns: `MonotonicClock.nanoseconds()`, written here so that the spin loop
    /// reads it inline in every build. Calling LinuxSystem's (unoptimised in debug builds) made an
    /// idle worker on the emulated arm64 board use 37 ms of CPU in 300 ms instead of under 30
    /// (ThreadPoolTests, `./scripts/arm-board test -- --filter ThreadPool`, twice; this form passes).
    @inline(__always)
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Spins until `changed()` or `spinMicroseconds` have passed; returns whether it changed.
    @inline(__always)
    private func spin(until changed: () -> Bool) -> Bool {
        if spinMicroseconds == 0 { return changed() }
        let deadline = Self.now() &+ UInt64(spinMicroseconds) &* 1000
        while true {
            for _ in 0..<64 {
                if changed() { return true }
                socprof_cpu_relax()
            }
            if Self.now() >= deadline { return changed() }
        }
    }

    private func workerLoop(_ index: Int) {
        if !cpus.isEmpty && !Affinity.pin(cpu: cpus[index % cpus.count]) { pinFailures.add(1, ordering: .releasing) }
        var seen = 0
        while true {
            if !spin(until: { state.load(ordering: .acquiring) != seen }) {
                pthread_mutex_lock(mutex)
                while state.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                pthread_mutex_unlock(mutex)
            }
            seen = state.load(ordering: .acquiring)
            if stopping { return }
            if seen & 1 == 1 {
                // Every thread its own part: the caller waits for this one, so the job's fields,
                // written before `state` (release/acquire), stay as they are until it is done.
                perform(index)
                if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { signalDone() }
            } else {
                takeParts(thread: index)
            }
        }
    }

    /// The caller may be asleep on `done`: signal under the mutex, so that it cannot miss it
    /// between its check and its wait.
    private func signalDone() {
        pthread_mutex_lock(mutex)
        pthread_cond_signal(done)
        pthread_mutex_unlock(mutex)
    }

    @inline(never)
    private func perform(_ index: Int) {
        let function = jobFunction!, context = jobContext
        let hook = endHook, hookContext = endHookContext
        function(context, index)
        hook?(hookContext, index)
    }

    /// Takes parts of the current job until none is left, runs each, then (if it ran any) the
    /// end hook with this thread's own index, and counts them finished. A worker late for a job
    /// may take a part of the next one: the take that returns a part below `count` reads the
    /// value the caller stored (with release) after that job's fields, and that job cannot end
    /// before the part is done; a take that returns more touches nothing.
    @inline(never)
    private func takeParts(thread: Int) {
        if thread != 0, case let late = lateWorkers.load(ordering: .relaxed), late != 0 {
            if late < 0 { return }
            usleep(UInt32.random(in: 0..<UInt32(late)))
        }
        var ran = 0
        while case let part = parts.add(1, ordering: .acquiringAndReleasing).oldValue, part < count {
            jobFunction!(jobContext, part)
            ran += 1
        }
        guard ran > 0 else { return }
        endHook?(endHookContext, thread)
        if unfinished.subtract(ran, ordering: .acquiringAndReleasing).newValue == 0 { signalDone() }
    }

    /// Sets a function that every thread calls on itself at the end of its share of every job,
    /// before the job counts as finished (`hook(context, threadIndex)`); nil removes it. The
    /// profiler reads each thread's own counters there: a thread reading its own counters needs
    /// no inter-processor interrupt, and may read them without a system call. Call it between
    /// jobs, from the thread that calls `run`.
    public func setJobEndHook(_ hook: JobFunction?, context: UnsafeMutableRawPointer?) {
        endHook = hook
        endHookContext = hook == nil ? nil : context
    }

    /// Runs `function(context, part)` for every part 0 ..< `count`, each once, on whichever thread
    /// takes it (the caller takes parts too), and returns when all are done; with `everyThread`,
    /// part t on thread t (the caller 0), waiting for every thread. Allocates nothing: the
    /// kernels' entry point. The end hook runs on each thread that ran a part, with that thread's
    /// own index.
    public func run(_ function: JobFunction, context: UnsafeMutableRawPointer?, everyThread: Bool = false) {
        claims.store(0, ordering: .relaxed)
        if count == 1 {
            function(context, 0)
            endHook?(endHookContext, 0)
            return
        }
        jobFunction = function
        jobContext = context
        let next = (state.load(ordering: .relaxed) | 1) &+ (everyThread ? 2 : 1) // even: parts to take; odd: every thread
        if everyThread {
            team.store(count, ordering: .relaxed)
            pending.store(count - 1, ordering: .relaxed)
            parts.store(Self.closed, ordering: .releasing) // a late worker's take gets nothing
        } else {
            team.store(0, ordering: .relaxed)
            unfinished.store(count, ordering: .relaxed)
            parts.store(0, ordering: .releasing)
        }
        pthread_mutex_lock(mutex)
        state.store(next, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        if everyThread {
            function(context, 0)
            endHook?(endHookContext, 0)
            if !spin(until: { pending.load(ordering: .acquiring) == 0 }) {
                pthread_mutex_lock(mutex)
                while pending.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, mutex) }
                pthread_mutex_unlock(mutex)
            }
        } else {
            takeParts(thread: 0)
            if !spin(until: { unfinished.load(ordering: .acquiring) == 0 }) {
                pthread_mutex_lock(mutex)
                while unfinished.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, mutex) }
                pthread_mutex_unlock(mutex)
            }
        }
        jobFunction = nil
        jobContext = nil
    }

    /// Inside a `run` job: the next of the job's indices 0, 1, 2, ..., each handed to one thread,
    /// whichever asks first (an atomic counter, set to 0 when the job starts). A job split into
    /// more chunks than threads takes them with it, so that a thread slowed by something outside
    /// the process (another tenant on a shared core) does fewer of them instead of holding the
    /// others at the job's end.
    @inline(__always)
    public func claim() -> Int { claims.add(1, ordering: .relaxed).oldValue }

    /// Chunks a thread for work cut in advance (the blocked convolution's rows and blocks):
    /// enough that a slowed thread can do fewer, few enough that each stays large.
    /// `forEachClaimedChunk` sizes its chunks as it goes instead.
    public static let chunksPerThread = 4

    /// Inside a job: `body` on contiguous ranges that cover `0 ..< n` once, each taken by one
    /// thread, whichever asks first; with one thread, `body(0 ..< n)`. Guided: each take is a
    /// 2 x threads-th of the units not yet taken, but at least a 16 x threads-th of all of them
    /// (and one unit), so the first chunks are large and the last ones small, and the threads end
    /// within a small chunk of each other without a take for every unit of a job of many small
    /// units (each take is an atomic operation on a line the threads share).
    /// With 4 equal chunks a thread, 2 threads spent 6.7-6.9 % of their CPU time waiting for each
    /// other at the ends of int8 MobileNet's layers, guided 3.9-4.0 % (`perf record -e cpu-clock`,
    /// Zen 3; docs/kernels.md "Thread pool").
    @inline(__always)
    public func forEachClaimedChunk(of n: Int, _ body: (Range<Int>) -> Void) {
        if count == 1 {
            if n > 0 { body(0..<n) }
            return
        }
        let divisor = 2 * count, least = max(1, n / (16 * count))
        var start = claims.load(ordering: .relaxed)
        while start < n {
            let size = min(n - start, max(least, (n - start) / divisor))
            let (taken, seen) = claims.compareExchange(expected: start, desired: start + size, ordering: .relaxed)
            if taken {
                body(start..<(start + size))
                start = claims.load(ordering: .relaxed)
            } else {
                start = seen
            }
        }
    }

    /// Elements a unit of `forEachClaimedBlock`: 1024 (1 KB of bytes, 4 KB of floats; 64-byte
    /// aligned where the tensor is), so that no two threads write one cache line.
    public static let elementBlock = 1024

    /// `forEachClaimedChunk` on `0 ..< n` elements in units of `elementBlock`, for element-wise
    /// work: the ranges are whole units, but for the last.
    @inline(__always)
    public func forEachClaimedBlock(of n: Int, _ body: (Range<Int>) -> Void) {
        let unit = Self.elementBlock
        forEachClaimedChunk(of: (n + unit - 1) / unit) { units in body((units.lowerBound * unit)..<min(n, units.upperBound * unit)) }
    }

    /// `claim` for a job in phases separated by `barrier()`: each thread keeps one (from
    /// `claimer()`) and calls `next(below:)` until it returns nil in every phase, with the same
    /// count on every thread. The barrier sets the claims back to 0 once every thread of the team
    /// has arrived, so each phase hands out its own 0 ..< n.
    public struct Claimer {
        let pool: ThreadPool
        /// The next index of this phase's 0..<n, or nil when they are all taken.
        @inline(__always)
        public mutating func next(below n: Int) -> Int? {
            let i = pool.claim()
            return i < n ? i : nil
        }
    }

    /// A `Claimer` for this job (call it in the job, on each thread).
    public func claimer() -> Claimer { Claimer(pool: self) }

    /// Runs a job struct on every thread: `J.work(_:)` with the thread's index. The struct stays on
    /// the caller's stack; nothing is allocated.
    @inline(__always)
    public func run<J: PoolJob>(_ job: inout J) {
        withUnsafeMutablePointer(to: &job) { run(J.function, context: UnsafeMutableRawPointer($0)) }
    }

    /// Runs `body(threadIndex)` on every thread, part t on thread t, and waits for all: for setup
    /// (pinning, each thread's own counters) and measurements that need every thread on its own
    /// CPU at once. It boxes the closure (one small allocation per call), so the kernels use
    /// `run(_:)` with a `PoolJob`.
    public func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var job = ClosureJob(body: escapable)
            withUnsafeMutablePointer(to: &job) { run(ClosureJob.function, context: UnsafeMutableRawPointer($0), everyThread: true) }
        }
    }

    /// The team of the current job: fixed from the start for every-thread jobs, else closed by
    /// the first thread at a barrier: the threads that have taken a part by then, and the parts
    /// nobody has taken given up (counted finished).
    private func teamSize() -> Int {
        let size = team.load(ordering: .acquiring)
        if size != 0 { return size }
        let taken = parts.add(Self.closed, ordering: .acquiringAndReleasing).oldValue
        guard taken < Self.closed else {
            // Another thread closed it: its size is a store away.
            while true {
                let size = team.load(ordering: .acquiring)
                if size != 0 { return size }
                socprof_cpu_relax()
            }
        }
        let members = min(taken, count)
        if members < count { unfinished.subtract(count - members, ordering: .acquiringAndReleasing) }
        team.store(members, ordering: .releasing)
        return members
    }

    /// Inside a `run` job: waits until every thread of the job's team has reached this call
    /// (spinning for at most `spinMicroseconds`, then sleeping), and sets `claim` back to 0 for
    /// the next phase. Every thread of the team calls it the same number of times. In a kernel's
    /// job the first barrier closes the team (see the type's notes): before it, work is taken
    /// with `claim` only.
    public func barrier() {
        if count == 1 {
            claims.store(0, ordering: .relaxed)
            return
        }
        let generation = barrierGeneration.load(ordering: .acquiring)
        if barrierCount.add(1, ordering: .acquiringAndReleasing).newValue == teamSize() {
            barrierCount.store(0, ordering: .relaxed)
            claims.store(0, ordering: .relaxed)
            pthread_mutex_lock(barrierMutex)
            barrierGeneration.add(1, ordering: .releasing)
            pthread_cond_broadcast(barrierCond)
            pthread_mutex_unlock(barrierMutex)
        } else if !spin(until: { barrierGeneration.load(ordering: .acquiring) != generation }) {
            pthread_mutex_lock(barrierMutex)
            while barrierGeneration.load(ordering: .acquiring) == generation { pthread_cond_wait(barrierCond, barrierMutex) }
            pthread_mutex_unlock(barrierMutex)
        }
    }

    /// Splits `n` columns into `parts` ranges that start on multiples of `tile`, each as close as
    /// possible to an equal number of columns (not of tiles: a partial last tile counts for what
    /// it holds).
    @inline(__always)
    public static func shareColumns(_ n: Int, tile: Int, part i: Int, of parts: Int) -> Range<Int> {
        func boundary(_ k: Int) -> Int {
            if k >= parts { return n }
            let ideal = (n * k + parts / 2) / parts
            return min(n, (ideal + tile / 2) / tile * tile)
        }
        let lo = boundary(i), hi = boundary(i + 1)
        return lo..<max(lo, hi)
    }

    /// Splits `0..<n` into `count` contiguous ranges, thread `i` getting range `i`.
    @inline(__always)
    public static func share(_ n: Int, part i: Int, of parts: Int) -> Range<Int> {
        let base = n / parts, extra = n % parts
        let start = i * base + min(i, extra)
        return start..<(start + base + (i < extra ? 1 : 0))
    }
}

/// Work for a `ThreadPool`: a struct holding the job's arguments, and a C function that finds the
/// struct behind the context pointer and calls `work`. Conformers write
/// `static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: Self.self).pointee.work(t) }`
/// with their own type in place of `Self`.
public protocol PoolJob {
    /// The C function the pool calls on every thread.
    static var function: ThreadPool.JobFunction { get }
    /// This thread's share of the job.
    func work(_ thread: Int)
}

struct ClosureJob: PoolJob {
    let body: (Int) -> Void
    static let function: ThreadPool.JobFunction = { c, t in c!.assumingMemoryBound(to: ClosureJob.self).pointee.body(t) }
    func work(_ thread: Int) { body(thread) }
}
