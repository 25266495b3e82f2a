/// Half of one thread's share of each cache level, bytes: the working set per thread that stays
/// in that level when every thread reads its own buffer (the ceilings' L1/L2/L3 points and the
/// power-model read workloads).
public struct CacheShares: Sendable, Equatable {
    /// Per level ("L1", "L2", "L3"), bytes per thread; a level is missing when no size is known.
    public let bytesPerThread: [String: Int64]
    /// The levels whose size came from the board file, because the kernel gives none.
    public let fromBoard: [String]

    /// The shares on `cpus` with `threads` threads: the kernel's cache sizes, else the board
    /// file's (arm64 kernels take them from the device tree, and many trees, QEMU's virt among
    /// them, give only the level and type).
    public init(cluster: Cluster?, board: Board.Cluster?, cpus: [Int], threads: Int) {
        let caches = cluster?.caches ?? []
        // Half of one thread's share of a cache of `bytes` shared by `sharers` of the CPUs used.
        func perThread(_ bytes: Int64, sharers: Int) -> Int64 { bytes / Int64(max(1, min(sharers, threads))) / 2 }
        func share(_ c: CacheInfo) -> Int64? {
            c.sizeBytes.map { perThread($0, sharers: Set(c.sharedCPUs.cpus).intersection(cpus).count) }
        }
        func boardShare(kib: Int?, sharers: Int) -> Int64? { kib.map { perThread(Int64($0) << 10, sharers: sharers) } }
        var levels: [String: Int64] = [:]
        var fromBoard: [String] = []
        if let l1 = caches.first(where: { $0.level == 1 && $0.type != "Instruction" }).flatMap(share) {
            levels["L1"] = l1
        } else if let l1 = boardShare(kib: board?.l1d_kib?.value, sharers: 1) {
            levels["L1"] = l1; fromBoard.append("L1")
        }
        if let l2 = caches.first(where: { $0.level == 2 }).flatMap(share) {
            levels["L2"] = l2
        } else if let l2 = boardShare(kib: board?.l2_kib?.value, sharers: board?.l2_shared == false ? 1 : cpus.count) {
            levels["L2"] = l2; fromBoard.append("L2")
        }
        if let l3 = caches.first(where: { $0.level == 3 }).flatMap(share) { levels["L3"] = l3 }
        self.bytesPerThread = levels
        self.fromBoard = fromBoard
    }
}
