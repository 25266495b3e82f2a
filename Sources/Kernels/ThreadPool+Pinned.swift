import LinuxSystem

extension ThreadPool {
    /// Why a pinned pool could not be had.
    public enum PinningError: Error, CustomStringConvertible, Sendable {
        /// The system started only `started` of the threads (a memory or thread limit): `why`.
        case couldNotStart(started: Int, asked: Int, why: String)
        /// The kernel refused to pin some threads to the CPUs (offline, or outside the cpuset).
        case couldNotPin(unpinned: Int, asked: Int, cpus: [Int])

        public var description: String {
            switch self {
            case .couldNotStart(let started, let asked, let why):
                "could start only \(started) of \(asked) thread(s): \(why); ask for fewer with --threads"
            case .couldNotPin(let unpinned, let asked, let cpus):
                "could not pin \(unpinned) of \(asked) thread(s) to cpus \(cpus.map(String.init).joined(separator: ",")): sched_setaffinity refused (is a CPU offline or outside this process's cpuset?)"
            }
        }
    }

    /// A pool of `threads` threads pinned round-robin to `cpus`, or an error when a thread could
    /// not be started or pinned (the figures would then not be the chosen CPUs').
    public static func pinned(threads: Int, cpus: [Int]) throws(PinningError) -> ThreadPool {
        let pool = ThreadPool(threads: threads, cpus: cpus)
        if let why = pool.startFailure { throw .couldNotStart(started: pool.count, asked: threads, why: why) }
        if pool.unpinnedThreads > 0 { throw .couldNotPin(unpinned: pool.unpinnedThreads, asked: threads, cpus: cpus) }
        return pool
    }
}
