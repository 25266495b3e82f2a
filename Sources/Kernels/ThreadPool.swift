import CLinux
import LinuxSystem
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Worker threads pinned to a set of CPUs (a cluster), that run one job at a time: `run` hands
/// every thread (the caller is thread 0) its index and waits until all have finished, a barrier
/// at each layer boundary. No allocation per job.
///
/// Waiting: a thread that has nothing to do (a worker between jobs, the caller waiting for the
/// workers, a thread at `barrier()`) first spins for at most `spinMicroseconds` (with the CPU's
/// spin-wait hint), then sleeps on a condition variable. During inference the next layer's job
/// arrives within the spin, so a layer boundary costs neither a wake-up (tens of microseconds on
/// some systems) nor two context switches; an idle pool sleeps and uses no CPU.
// Sendable: the job, its context and the hook are published under the pool's mutex (or its atomic
// generation for spinning workers); `count` and `startFailure` are set once in `init`.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads, the caller included: those asked for, or fewer when the system would
    /// not start more (`startFailure` says why). Set once in `init`.
    public private(set) var count: Int
    /// Why fewer threads than asked for were started (pthread_create's error), or nil.
    public private(set) var startFailure: String? = nil
    /// The CPUs each thread is pinned to (thread i to `cpus[i % cpus.count]`), or empty: unpinned.
    public let cpus: [Int]
    /// How long a waiting thread spins before it sleeps, µs (0: sleep at once). The default,
    /// 50 µs, covers the gap between two layers; `SOCPROF_SPIN_US` in the environment overrides it.
    /// 0 whenever the pool has more threads than CPUs to run them: a spinning thread would then
    /// hold the CPU that the thread it waits for needs.
    public let spinMicroseconds: Int

    /// The default spin: `SOCPROF_SPIN_US` when set to a number from 0 to 1,000,000, else 50 µs.
    public static var defaultSpinMicroseconds: Int {
        if let v = getenv("SOCPROF_SPIN_US").flatMap({ Int(String(cString: $0)) }), (0...1_000_000).contains(v) { return v }
        return 50
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Bumped (under `mutex`, with release ordering) to hand out a job; spinning workers watch it.
    private let generation = Atomic<Int>(0)
    /// Workers still running the current job.
    private let pending = Atomic<Int>(0)
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
        generation.add(1, ordering: .releasing)
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
            // Another runnable thread on this CPU (another process) gets it: waiting, this one
            // has nothing better to do.
            sched_yield()
        }
    }

    private func workerLoop(_ index: Int) {
        if !cpus.isEmpty && !Affinity.pin(cpu: cpus[index % cpus.count]) { pinFailures.add(1, ordering: .releasing) }
        var seen = 0
        while true {
            if !spin(until: { generation.load(ordering: .acquiring) != seen }) {
                pthread_mutex_lock(mutex)
                while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(wake, mutex) }
                pthread_mutex_unlock(mutex)
            }
            // The job's fields were written before the generation was bumped (release/acquire).
            seen = generation.load(ordering: .acquiring)
            if stopping { return }
            perform(index)
            if pending.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                // The caller may be asleep on `done`: signal under the mutex, so that it cannot
                // miss it between its check and its wait.
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    @inline(never)
    private func perform(_ index: Int) {
        let function = jobFunction!, context = jobContext
        let hook = endHook, hookContext = endHookContext
        function(context, index)
        hook?(hookContext, index)
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

    /// Runs `function(context, threadIndex)` on every thread (the caller runs index 0) and returns
    /// when all have finished. Allocates nothing: the kernels' entry point.
    public func run(_ function: JobFunction, context: UnsafeMutableRawPointer?) {
        claims.store(0, ordering: .relaxed)
        if count == 1 {
            function(context, 0)
            endHook?(endHookContext, 0)
            return
        }
        jobFunction = function
        jobContext = context
        pending.store(count - 1, ordering: .relaxed)
        pthread_mutex_lock(mutex)
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        function(context, 0)
        endHook?(endHookContext, 0)
        if !spin(until: { pending.load(ordering: .acquiring) == 0 }) {
            pthread_mutex_lock(mutex)
            while pending.load(ordering: .acquiring) > 0 { pthread_cond_wait(done, mutex) }
            pthread_mutex_unlock(mutex)
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

    /// Chunks a thread for work taken with `claim`: enough that a slowed thread can do fewer,
    /// few enough that each stays large (16 measured no different from 4 on MobileNet).
    public static let chunksPerThread = 4

    /// How many chunks to cut `units` of work into for `claim`: `chunksPerThread` a thread, at
    /// most one a unit.
    public func chunks(of units: Int) -> Int { min(units, count * Self.chunksPerThread) }

    /// `claim` for a job in phases separated by `barrier()`: each thread keeps one (from
    /// `claimer()`) and calls `next(below:)` until it returns nil in every phase, with the same
    /// count on every thread. A phase of n indices leaves the counter n + `count` further on (each
    /// thread's last claim is past the end), which every thread adds to its base; the barrier
    /// keeps the phases' claims apart.
    public struct Claimer {
        let pool: ThreadPool
        var base = 0
        /// The next index of this phase's 0..<n, or nil when they are all taken.
        @inline(__always)
        public mutating func next(below n: Int) -> Int? {
            let i = pool.claim() - base
            if i < n { return i }
            base += n + pool.count
            return nil
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

    /// Runs `body(threadIndex)` on every thread. Convenient for setup code; it boxes the closure
    /// (one small allocation per call), so the kernels use `run(_:)` with a `PoolJob`.
    public func run(_ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { escapable in
            var job = ClosureJob(body: escapable)
            run(&job)
        }
    }

    /// Inside a `run` job: waits until every thread of the pool has reached this call (spinning
    /// for at most `spinMicroseconds`, then sleeping). Every thread must call it the same number
    /// of times.
    public func barrier() {
        if count == 1 { return }
        let generation = barrierGeneration.load(ordering: .acquiring)
        if barrierCount.add(1, ordering: .acquiringAndReleasing).newValue == count {
            barrierCount.store(0, ordering: .relaxed)
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
