import CBench
import Foundation
import Kernels
import Networks

/// Something to keep a cluster busy for a while, in whole units of work: a network's images, or
/// one of the ceiling kernels (FMA chains, reads from a buffer that fits L1, L2 or only DRAM), or
/// nothing (idle, for static power).
public enum Workload: Sendable, Hashable, CustomStringConvertible {
    /// The threads sleep: static power and the rates of an idle cluster.
    case idle
    /// `Ceilings.fmaLoop` on every thread: the FPU busy, memory quiet.
    case fma
    /// Each thread reads its own buffer of this many bytes again and again.
    case read(name: String, bytesPerThread: Int)
    /// A built-in network, image after image.
    case network(String)

    public var description: String {
        switch self {
        case .idle: "idle"
        case .fma: "fma"
        case .read(let name, _): name
        case .network(let name): name
        }
    }

    /// The kernels' workloads for a cluster whose per-thread L1 and L2 shares are `l1Bytes` and
    /// `l2Bytes`: reads from half of each, and from 64 MiB (DRAM).
    public static func kernels(l1Bytes: Int, l2Bytes: Int) -> [Workload] {
        [.idle, .fma, .read(name: "read-l1", bytesPerThread: max(4096, l1Bytes / 2)),
         .read(name: "read-l2", bytesPerThread: max(8192, l2Bytes / 2)), .read(name: "read-dram", bytesPerThread: 64 << 20)]
    }
}

extension Workload {
    /// A workload set up on a pool (weights made, buffers filled), ready to run for a while.
    public final class Runner {
        public let workload: Workload
        public let pool: ThreadPool
        private var network: NetworkRunner?
        private var buffers: [UnsafeMutablePointer<Float>] = []
        /// One result per thread, kept so that no step allocates inside a counting window.
        private let partial: UnsafeMutableBufferPointer<Float>
        private var sink: Float = 0

        public init(_ workload: Workload, pool: ThreadPool) {
            self.workload = workload
            self.pool = pool
            partial = .allocate(capacity: pool.count)
            partial.initialize(repeating: 0)
            switch workload {
            case .network(let name):
                guard let net = NetworkCatalog.network(named: name) else { preconditionFailure("unknown network \(name)") }
                let runner = NetworkRunner(network: net, pool: pool)
                runner.setDeterministicInput()
                network = runner
            case .read(_, let bytes):
                let count = bytes / 4
                buffers = (0..<pool.count).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: count) }
                // Each thread fills its own buffer (first touch on its CPU's memory).
                let bufs = buffers
                pool.run { t in for i in 0..<count { bufs[t][i] = Float(i & 1023) * 1e-3 } }
            case .idle, .fma:
                break
            }
        }

        deinit {
            for b in buffers { b.deallocate() }
            partial.deallocate()
            if sink == 12345.678 { print(sink) }
        }

        /// One unit of work (an image, a pass over the buffers, an FMA chunk, or 10 ms of sleep).
        public func step() {
            switch workload {
            case .idle:
                usleep(10_000)
            case .fma:
                let partial = self.partial
                pool.run { t in partial[t] = Ceilings.fmaLoop(iterations: 1 << 16, seed: 1e-7) }
                sink += partial.reduce(0, +)
            case .read(_, let bytes):
                let count = bytes / 4
                let bufs = buffers
                let partial = self.partial
                // At least 1 MiB per thread per step, so that a step is not all overhead.
                let passes = max(1, (1 << 20) / max(1, bytes))
                pool.run { t in
                    var s: Float = 0
                    for _ in 0..<passes {
                        socprof_clobber(bufs[t])
                        s += Ceilings.readKernel(bufs[t], count: count)
                    }
                    partial[t] = s
                }
                sink += partial.reduce(0, +)
            case .network:
                _ = network!.run()
            }
        }

        /// Runs whole units until `seconds` have passed (at least one unit) or `shouldStop` says
        /// so. Returns the units run and the time they took, s.
        public func run(seconds: Double, shouldStop: () -> Bool = { false }) -> (units: Int, seconds: Double) {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let end = t0 + UInt64(max(0, seconds) * 1e9)
            var units = 0
            repeat {
                step()
                units += 1
            } while DispatchTime.now().uptimeNanoseconds < end && !shouldStop()
            return (units, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
    }
}
