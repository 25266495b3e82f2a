import Foundation
import Kernels
import Platform

/// The bandwidth roofs a memory-bound layer is set against, measured in the same run on the
/// benchmark's own threads by the ceilings kernels (`Ceilings.readBandwidth` and
/// `Ceilings.copyBandwidth`, as `socprof ceilings` measures them): DRAM read and copy bandwidth
/// at a working set far beyond the caches, and read bandwidth at the L2 (and L3) working set
/// `socprof ceilings` uses for the level (half one thread's share of the cache, `CacheShares`).
/// All GB/s are 10^9 bytes/s of all threads together.
public struct BandwidthRoof: Codable, Sendable, Equatable {
    /// The working set per thread each roof is measured at, bytes.
    public struct WorkingSets: Sendable, Equatable {
        /// DRAM: 256 MiB per thread by default, as `socprof ceilings`, or less where all threads'
        /// sets would pass a quarter of the machine's memory (`Ceilings.workingSetLimit`).
        public let dram: Int64
        /// L2 and L3: nil where no size is known for the level (neither the kernel nor a board file gives one).
        public let l2: Int64?
        public let l3: Int64?

        public init(dram: Int64, l2: Int64?, l3: Int64?) {
            self.dram = dram
            self.l2 = l2
            self.l3 = l3
        }

        /// The sets for `threads` threads given the caches' shares and the machine's memory (bytes).
        public init(shares: CacheShares, threads: Int, physicalBytes: Int64, dramRequested: Int = 256 << 20) {
            self.init(dram: Int64(Ceilings.workingSetLimit(requested: dramRequested, threads: threads, physical: physicalBytes)),
                      l2: shares.bytesPerThread["L2"], l3: shares.bytesPerThread["L3"])
        }

        /// The sets for `threads` threads on `cpus` of the machine `platform` describes (its
        /// cluster's caches, else its board file's; no cache level when `platform` is nil), DRAM's
        /// `dramRequested` bytes per thread at most.
        public init(platform: PlatformDescription?, cpus: [Int], threads: Int, dramRequested: Int = 256 << 20) {
            let cluster = platform.flatMap { Placement.cluster(containing: cpus, in: $0.topology) }
            let sheet = cluster.flatMap { platform?.boardCluster(for: $0) }
            let physical = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
            self.init(shares: CacheShares(cluster: cluster, board: sheet, cpus: cpus, threads: threads), threads: threads,
                      physicalBytes: physical, dramRequested: dramRequested)
        }
    }

    /// Read bandwidth at `dram_bytes_per_thread`, GB/s.
    public let dram_read_gbs: Double
    /// Copy bandwidth (bytes read + bytes written) at `dram_bytes_per_thread`, GB/s.
    public let dram_copy_gbs: Double
    /// Bytes per thread of the DRAM working set.
    public let dram_bytes_per_thread: Int64
    /// Read bandwidth at `l2_bytes_per_thread`, GB/s; nil when the L2's size is unknown.
    public let l2_read_gbs: Double?
    public let l2_bytes_per_thread: Int64?
    /// Read bandwidth at `l3_bytes_per_thread`, GB/s; nil when there is no L3 or its size is unknown.
    public let l3_read_gbs: Double?
    public let l3_bytes_per_thread: Int64?
    public let threads: Int

    public init(dram_read_gbs: Double, dram_copy_gbs: Double, dram_bytes_per_thread: Int64, l2_read_gbs: Double?, l2_bytes_per_thread: Int64?,
                l3_read_gbs: Double?, l3_bytes_per_thread: Int64?, threads: Int) {
        self.dram_read_gbs = dram_read_gbs
        self.dram_copy_gbs = dram_copy_gbs
        self.dram_bytes_per_thread = dram_bytes_per_thread
        self.l2_read_gbs = l2_read_gbs
        self.l2_bytes_per_thread = l2_bytes_per_thread
        self.l3_read_gbs = l3_read_gbs
        self.l3_bytes_per_thread = l3_bytes_per_thread
        self.threads = threads
    }

    /// Measures the roofs on every thread of `pool`, each thread reading (and copying) its own
    /// buffer: the best of `Ceilings`' trials at each working set.
    public static func measure(pool: ThreadPool, sets: WorkingSets) -> BandwidthRoof {
        let largest = Int(max(sets.dram, sets.l2 ?? 0, sets.l3 ?? 0))
        let buffers = (0..<pool.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: largest / 4) }
        defer { for b in buffers { b.deallocate() } }
        for b in buffers { b.initialize(repeating: 1, count: largest / 4) }
        func read(_ bytes: Int64?) -> Double? {
            bytes.map { Ceilings.readBandwidth(pool: pool, buffers: buffers, bytesPerThread: Int($0)) }
        }
        return BandwidthRoof(dram_read_gbs: read(sets.dram)!, dram_copy_gbs: Ceilings.copyBandwidth(pool: pool, buffers: buffers, bytesPerThread: Int(sets.dram)),
                             dram_bytes_per_thread: sets.dram, l2_read_gbs: read(sets.l2), l2_bytes_per_thread: sets.l2,
                             l3_read_gbs: read(sets.l3), l3_bytes_per_thread: sets.l3, threads: pool.count)
    }
}
