import CPerfEvent
#if canImport(Glibc)
import Glibc
#endif

/// Worker threads pinned to a set of CPUs (a cluster), that run one job at a time: `run` hands
/// every thread (the caller is thread 0) its index and waits until all have finished, a barrier
/// at each layer boundary. Workers sleep on a condition variable between jobs: no busy-spinning,
/// and no allocation per job.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads, the caller included.
    public let count: Int
    /// The CPUs each thread is pinned to (thread i to `cpus[i % cpus.count]`), or empty: unpinned.
    public let cpus: [Int]

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation: UInt64 = 0
    private var pending = 0
    /// A job without a closure: a C function and a pointer to its context (a struct on the
    /// caller's stack), so that running one allocates nothing.
    public typealias JobFunction = @convention(c) (UnsafeMutableRawPointer?, Int) -> Void
    private var jobFunction: JobFunction? = nil
    private var jobContext: UnsafeMutableRawPointer? = nil
    private var stopping = false
    private let barrierMutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let barrierCond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var barrierCount = 0
    private var barrierGeneration: UInt64 = 0
    private var workers: [pthread_t] = []

    /// Starts `threads - 1` workers and, when `cpus` is given, pins them and the calling thread
    /// (which runs index 0 of every job and keeps the pinning after the pool is gone).
    public init(threads: Int, cpus: [Int] = []) {
        precondition(threads >= 1, "a pool needs at least one thread")
        count = threads
        self.cpus = cpus
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        pthread_mutex_init(barrierMutex, nil)
        pthread_cond_init(barrierCond, nil)
        if !cpus.isEmpty { Self.pin(cpu: cpus[0]) }
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
            precondition(r == 0, "pthread_create failed: \(r)")
            workers.append(t)
        }
    }

    final class WorkerStart {
        let pool: Unmanaged<ThreadPool>
        let index: Int
        init(pool: Unmanaged<ThreadPool>, index: Int) { self.pool = pool; self.index = index }
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        generation &+= 1
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

    static func pin(cpu: Int) {
        var c = Int32(truncatingIfNeeded: cpu)
        _ = socprof_set_affinity(0, &c, 1)
    }

    private func workerLoop(_ index: Int) {
        if !cpus.isEmpty { Self.pin(cpu: cpus[index % cpus.count]) }
        var seen: UInt64 = 0
        while true {
            pthread_mutex_lock(mutex)
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            if stopping { pthread_mutex_unlock(mutex); return }
            // Unlocks, runs the job, and drops this thread's reference to it before reporting
            // completion: `run` checks that the closure did not escape once all are done.
            perform(index)
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
            pthread_mutex_unlock(mutex)
        }
    }

    @inline(never)
    private func perform(_ index: Int) {
        let function = jobFunction!, context = jobContext
        pthread_mutex_unlock(mutex)
        function(context, index)
    }

    /// Runs `function(context, threadIndex)` on every thread (the caller runs index 0) and returns
    /// when all have finished. Allocates nothing: the kernels' entry point.
    public func run(_ function: JobFunction, context: UnsafeMutableRawPointer?) {
        if count == 1 { function(context, 0); return }
        pthread_mutex_lock(mutex)
        jobFunction = function
        jobContext = context
        pending = count - 1
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        function(context, 0)
        pthread_mutex_lock(mutex)
        while pending > 0 { pthread_cond_wait(done, mutex) }
        jobFunction = nil
        jobContext = nil
        pthread_mutex_unlock(mutex)
    }

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

    /// Inside a `run` job: waits until every thread of the pool has reached this call (sleeping,
    /// not spinning). Every thread must call it the same number of times.
    public func barrier() {
        if count == 1 { return }
        pthread_mutex_lock(barrierMutex)
        let generation = barrierGeneration
        barrierCount += 1
        if barrierCount == count {
            barrierCount = 0
            barrierGeneration &+= 1
            pthread_cond_broadcast(barrierCond)
        } else {
            while barrierGeneration == generation { pthread_cond_wait(barrierCond, barrierMutex) }
        }
        pthread_mutex_unlock(barrierMutex)
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
