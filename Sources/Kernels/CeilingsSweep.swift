/// The working-set sweep of `socprof ceilings`: read bandwidth at working sets from 16 KiB per
/// thread up to a limit, doubling, and the copy bandwidth at the largest one.
extension Ceilings {
    /// What a sweep measured.
    public struct Sweep: Sendable {
        /// Read bandwidth of all threads together at each working set per thread, in increasing size.
        public let points: [Point]
        /// Copy bandwidth (bytes read + written per second, all threads) at the largest set, GB/s.
        public let copyGBs: Double
        /// The largest working set per thread, bytes.
        public let maxBytesPerThread: Int
    }

    /// The largest working set per thread, at most `requested` bytes, halved (down to 16 MiB) until
    /// all threads' sets fit in a quarter of the machine's `physical` memory (an Odroid has 2 GiB
    /// for 8 threads).
    public static func workingSetLimit(requested: Int, threads: Int, physical: Int64) -> Int {
        var bytes = requested
        while bytes > 16 << 20 && Int64(bytes) * Int64(threads) > physical / 4 { bytes /= 2 }
        return bytes
    }

    /// Measures read bandwidth at 16 KiB, 32 KiB, ... up to `maxBytesPerThread` per thread on every
    /// thread of `pool`, then copy bandwidth at the largest. `progress` gets each working set
    /// (bytes per thread) before it is measured.
    public static func sweep(pool: ThreadPool, maxBytesPerThread: Int, progress: (Int) -> Void = { _ in }) -> Sweep {
        let buffers = (0..<pool.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: maxBytesPerThread / 4) }
        defer { for b in buffers { b.deallocate() } }
        for b in buffers { b.initialize(repeating: 1, count: maxBytesPerThread / 4) }
        var points: [Point] = []
        var size = 16 << 10
        while size <= maxBytesPerThread {
            progress(size)
            points.append(Point(bytesPerThread: Int64(size), readGBs: readBandwidth(pool: pool, buffers: buffers, bytesPerThread: size)))
            size *= 2
        }
        return Sweep(points: points, copyGBs: copyBandwidth(pool: pool, buffers: buffers, bytesPerThread: maxBytesPerThread),
                     maxBytesPerThread: maxBytesPerThread)
    }

    /// The bandwidth a working set of `bytes` per thread gets: the sweep point nearest below it (a
    /// cache's plateau is flat around it), the smallest point for a set below them all.
    public static func bandwidth(at bytes: Int64, in points: [Point]) -> Double? {
        (points.last { $0.bytesPerThread <= bytes } ?? points.first)?.readGBs
    }
}
