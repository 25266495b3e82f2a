#if canImport(Glibc)
import Glibc
#endif
import CArmKernels

/// One microkernel call: C[r x NR] (+)= A-panel x B-panel over `kc` (first argument, elements), A
/// packed k-major with `astride` floats a k step (third), B packed k-major NR floats a step, C
/// row-major with `ldc` floats a row (sixth), added to C when the last argument is true.
typealias GEMMMicrokernel = @convention(c) (Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Bool) -> Void

/// A full-height kernel for a panel's first few columns: the arguments of `GEMMMicrokernel`, then
/// the number of columns (1 to `GEMMKernel.fewColumns`).
typealias GEMMColumnsMicrokernel = @convention(c) (Int, UnsafePointer<Float>, Int, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Bool,
                                                   Int) -> Void

/// The full tiles of one B panel in one call: the arguments of `GEMMMicrokernel` with, after A's
/// k step, the floats from one panel of A to the next (`apanel`) and the number of full panels
/// of A (`panels`; C's tiles MR rows apart); then whether to apply GEMM's epilogue before each
/// tile is stored (`fused`), the bias of the first tile's first row (nil: none; the next tiles'
/// follow MR rows on), the residual's first tile (nil: none; laid out as C, `ldc` floats a row),
/// added after the bias, and the activation's bounds (lo, hi: C is clamped to them); last, the
/// panel's columns: NR, or 1 to NR - 1 for a last panel where the kernel takes one
/// (`GEMMKernel.flexiblePanels`), its columns then computed and stored in place, or NR + 1 to NR +
/// `GEMMKernel.joinedColumns` (flexible kernels): the panel and the first columns of the next
/// one, a last panel of so few columns joined to the one before. After the B panel, the floats
/// from one of its k steps to the next: NR where B is packed, B's leading dimension where it is
/// read in place (flexible kernels only); then the floats from the panel to the next one.
typealias GEMMPanelsMicrokernel = @convention(c) (Int, UnsafePointer<Float>, Int, Int, Int, UnsafePointer<Float>, Int, Int,
                                                  UnsafeMutablePointer<Float>, Int, Bool, Bool, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                                  Float, Float, Int) -> Void

/// A GEMM register tile (MR rows x NR columns of C), its kernels for fewer rows (the last M % MR
/// rows), and the cache blocking that goes with it. Several are compiled into one binary; `current`
/// is chosen at run time from the CPU (`automatic(for:)`) or forced with `SOCPROF_GEMM_KERNEL`.
/// Packing follows the tile: a `PackedA` or `Workspace` is used with the kernel it was made for.
// Sendable: immutable; the function pointers are C function pointers.
public struct GEMMKernel: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// Its name, e.g. `zmm12x32` (registers, MR x NR).
    public let name: String
    /// Rows of C per tile (the A panel's height).
    public let mr: Int
    /// Columns of C per tile (the B panel's width), a multiple of the vector length.
    public let nr: Int
    /// Depth of one packed block (rows of B / columns of A), elements.
    public let kc: Int
    /// Rows of A packed per block (kept in L2), a multiple of `mr`.
    public let mc: Int
    /// Columns of B packed per block, a multiple of `nr`.
    public let nc: Int
    /// What the CPU must have to run it.
    public let needs: Feature
    /// `rows[r - 1]` computes r rows; `rows[mr - 1]` is the full tile.
    let rows: [GEMMMicrokernel]
    /// The full rows over a panel's first `nr / 2` columns, if the tile has such a kernel: a last
    /// panel of at most that many columns runs it instead of the full tile (N = 49 computes 56
    /// columns, not 64).
    let half: GEMMMicrokernel?
    /// The full rows over a panel's first 1 to `fewColumns` columns, if the tile has such a
    /// kernel (a column a vector): a last panel of that many columns runs it (N = 49 and 12 x 16 +
    /// 1 ... 3 columns: one FMA a k step and column instead of the half kernel's MR).
    let columns: GEMMColumnsMicrokernel?
    /// The full tiles of a B panel in one call, if the tile has such a kernel, with the epilogue
    /// applied from the registers in the last K block (instead of `GEMMEpilogue.apply`'s second
    /// pass over each tile): a 16-column panel's tiles at K = 32 spent up to a fifth of their
    /// time in the call a tile otherwise.
    let fullPanels: GEMMPanelsMicrokernel?
    /// Whether `fullPanels` also takes a last panel of fewer than NR columns (under a mask, in
    /// place: no scratch tile, no copy, the epilogue from the registers), and B's rows any number
    /// of floats apart: a row-major B read in place, unpacked (`GEMM.inPlaceB`).
    let flexiblePanels: Bool
    /// The most columns `columns` computes.
    static let fewColumns = 3
    /// The most columns of a last panel that a flexible panels kernel joins to the one before
    /// (summed in the same loop, the rows in a vector's lanes: alone, one FMA chain a column
    /// waits on the FMA's latency, 4 cycles; four chains do not, and joined ran MobileNet's
    /// 14 x 14 layers, N = 196, about 1 % slower).
    static let joinedColumns = 3

    /// The instruction-set extensions a kernel needs at run time.
    public enum Feature: String, Sendable, Comparable {
        /// Whatever the build targets (NEON on ARM, the build's baseline on x86).
        case base
        /// AVX2 and FMA (8-lane ymm vectors, 16 registers).
        case avx2
        /// AVX-512 F and VL (16-lane zmm vectors, 32 registers).
        case avx512

        /// Narrower first: base < avx2 < avx512 (a CPU with one runs the kernels of those below).
        public static func < (a: Feature, b: Feature) -> Bool {
            let order: [Feature] = [.base, .avx2, .avx512]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    init(_ name: String, rows: [GEMMMicrokernel], half: GEMMMicrokernel? = nil, columns: GEMMColumnsMicrokernel? = nil, fullPanels: GEMMPanelsMicrokernel? = nil, flexiblePanels: Bool = false,
         mr: Int, nr: Int, kc: Int, mc: Int, nc: Int, needs: Feature) {
        precondition(mr >= 1 && mr <= rows.count && kc >= 1 && mc >= 1 && nc >= 1)
        self.name = name
        self.rows = rows
        self.half = half
        self.columns = columns
        self.fullPanels = fullPanels
        self.flexiblePanels = flexiblePanels && fullPanels != nil
        self.mr = mr
        self.nr = nr
        self.kc = kc
        self.mc = max(mr, mc / mr * mr)
        self.nc = max(nr, nc / nr * nr)
        self.needs = needs
    }

    /// The same tile with other cache blocking (rounded to whole tiles).
    public func blocking(kc: Int? = nil, mc: Int? = nil, nc: Int? = nil) -> GEMMKernel {
        GEMMKernel(name, rows: rows, half: half, columns: columns, fullPanels: fullPanels, flexiblePanels: flexiblePanels, mr: mr, nr: nr,
                   kc: kc ?? self.kc, mc: mc ?? self.mc, nc: nc ?? self.nc, needs: needs)
    }

    /// The depth of the K blocks of a product with depth `k`: as many blocks as blocks of `kc`
    /// need, of equal depth (K = 576 runs 3 blocks of 192, not 256, 256 and 64); all but the last
    /// have this depth. Packing (`PackedA`) and multiplying use the same blocks.
    @inline(__always)
    func kcBlock(_ k: Int) -> Int {
        let blocks = (k + kc - 1) / kc
        return blocks <= 1 ? max(k, 1) : (k + blocks - 1) / blocks
    }

    /// Rows of A per block for M = `m`: `mc` or less, whole tiles, the blocks about equal.
    @inline(__always)
    func mcBlock(_ m: Int) -> Int { Self.balanced(m, mc, mr) }

    /// Columns of B per block for N = `n`: `nc` or less, whole panels, the blocks about equal
    /// (N = 3136 runs 2 blocks of 1568, not 3072 and 64).
    @inline(__always)
    func ncBlock(_ n: Int) -> Int { Self.balanced(n, nc, nr) }

    @inline(__always)
    static func balanced(_ total: Int, _ limit: Int, _ unit: Int) -> Int {
        let blocks = (total + limit - 1) / limit
        if blocks <= 1 { return limit }
        let units = (total + unit - 1) / unit
        return (units + blocks - 1) / blocks * unit
    }

    /// The full tile's kernel.
    @inline(__always)
    var full: GEMMMicrokernel { rows[mr - 1] }

    /// Name, tile and blocking, e.g. `zmm8x32 (8x32, kc 512, mc 144, nc 3072)`.
    public var description: String { "\(name) (\(mr)x\(nr), kc \(kc), mc \(mc), nc \(nc))" }

    /// The same tile with the same blocking.
    public static func == (a: GEMMKernel, b: GEMMKernel) -> Bool {
        a.name == b.name && a.mr == b.mr && a.nr == b.nr && a.kc == b.kc && a.mc == b.mc && a.nc == b.nc
    }

    /// Every kernel compiled into this binary, whether or not this CPU can run it.
    public static let all: [GEMMKernel] = {
        #if arch(x86_64) || arch(i386)
        var list: [GEMMKernel] = []
        #if SOCPROF_AVX512
        // The B micro-panel (kc x NR) stays in L1 while the tiles of an mc block pass over it.
        list += [
            // The full-row tiles of a B panel, and of a last narrower one, in C (sgemm_avx512.c).
            GEMMKernel("zmm12x32", rows: GEMM.zmmx32Rows, fullPanels: GEMM.zmm12x32CPanels, flexiblePanels: true,
                       mr: 12, nr: 32, kc: 256, mc: 144, nc: 3072, needs: .avx512),
            GEMMKernel("zmm14x32", rows: GEMM.zmmx32Rows, mr: 14, nr: 32, kc: 256, mc: 140, nc: 3072, needs: .avx512),
            // Zen 4's choice, 512 deep: a tile sums twice as many k steps as at 256 (C read and
            // written half as often; the B panel, 64 KiB, comes from L2). SGEMM 1024³ 108.4-109.9
            // against 106.2-107.8 GFLOP/s at 1 thread, 212.5-213.0 against 204.5-204.9 at 2
            // (docs/kernels.md, "512-deep blocks").
            GEMMKernel("zmm8x32", rows: GEMM.zmmx32Rows, fullPanels: GEMM.zmm8x32CPanels, flexiblePanels: true,
                       mr: 8, nr: 32, kc: 512, mc: 144, nc: 3072, needs: .avx512),
            GEMMKernel("zmm6x32", rows: GEMM.zmmx32Rows, mr: 6, nr: 32, kc: 256, mc: 144, nc: 3072, needs: .avx512),
        ]
        #endif
        list += [
            // The full tile in C (sgemm_avx2.c): 76-78 against 65-67 GFLOP/s for the generated
            // Swift one on SGEMM 1024³ (`bench gemm`, Zen 3, in alternation).
            GEMMKernel("ymm6x16", rows: Array(GEMM.ymmx16Rows.prefix(5)) + [GEMM.ymm6x16C], half: GEMM.ymm6x8C,
                       columns: GEMM.ymm6xnC, fullPanels: GEMM.ymm6x16CPanels, mr: 6, nr: 16, kc: 256, mc: 144, nc: 3072, needs: .avx2),
            GEMMKernel("ymm4x24", rows: GEMM.ymmx24Rows, mr: 4, nr: 24, kc: 256, mc: 144, nc: 3072, needs: .avx2),
        ]
        return list
        #elseif arch(arm64)
        return [GEMMKernel("neon8x12", rows: Array(GEMM.neonx12Rows.prefix(7)) + [GEMM.armMicrokernel8x12], mr: 8, nr: 12,
                           kc: 256, mc: 144, nc: 3072, needs: .base)]
        #else
        return [GEMMKernel("neon4x8", rows: GEMM.neonx8Rows, mr: 4, nr: 8, kc: 256, mc: 144, nc: 3072, needs: .base)]
        #endif
    }()

    /// The compiled kernel named `name`, if any.
    public static func named(_ name: String) -> GEMMKernel? { all.first { $0.name == name } }

    /// The kernels a CPU can run, of those compiled in.
    public static func runnable(on cpu: CPU) -> [GEMMKernel] { all.filter { cpu.has($0.needs) } }

    /// The kernel for a CPU: the one measured fastest on that core (docs/kernels.md), else the
    /// widest that it can run.
    public static func automatic(for cpu: CPU) -> GEMMKernel {
        let can = runnable(on: cpu)
        func first(_ names: String...) -> GEMMKernel? { names.lazy.compactMap { n in can.first { $0.name == n } }.first }
        // (A build without SOCPROF_AVX512 has no zmm kernel, whatever the CPU.)
        if cpu.has(.avx512), let kernel = (cpu.isZen4 ? first(zen4Choice) : nil) ?? first("zmm12x32") {
            return kernel
        }
        return first("ymm6x16") ?? can.first ?? all.last!
    }

    /// The kernel for a product of `m` rows whose B can be read in place (a 1x1 convolution's
    /// input, Winograd's V): on a CPU whose zmm FMAs are full width (AVX-512, not Zen 4), a kernel
    /// with flexible panels whose MR divides `m` (`GEMM.inPlaceB` reads B in place only for whole
    /// panels of rows), `preferred` if it is one, else the one with the most rows; nil elsewhere,
    /// or where none divides `m`. On Intel (family 6 model 0xcf) `zmm12x32` packs B for
    /// ResNet-50's 64 to 2048 rows, no multiple of 12, and `zmm8x32` in place took 0.80 against
    /// 0.90 ms on a 256 -> 64 1x1 layer at 56x56, 0.63 against 0.70-0.77 on a 512 -> 128 one at
    /// 28x28 (docs/kernels.md, "Intel").
    public static func inPlace(m: Int, preferred: GEMMKernel = GEMM.kernel, cpu: CPU = .current) -> GEMMKernel? {
        guard cpu.has(.avx512), !cpu.isZen4 else { return nil }
        let whole = runnable(on: cpu).filter { $0.flexiblePanels && m % $0.mr == 0 }
        return whole.contains(preferred) ? preferred : whole.max { $0.mr < $1.mr }
    }

    /// AMD Zen 4's kernel (`automatic(for:)`), measured in docs/kernels.md.
    static let zen4Choice = "zmm8x32"

    /// The kernel GEMM runs unless told otherwise: `SOCPROF_GEMM_KERNEL` (a kernel's name, or `auto`
    /// or unset for `automatic(for: .current)`), read on first use. A name this binary lacks or
    /// this CPU cannot run is reported on stderr and the automatic choice is made.
    public static let current: GEMMKernel = {
        let value = getenv("SOCPROF_GEMM_KERNEL").map { String(cString: $0) }
        switch override(value, cpu: .current) {
        case .success(let kernel): return kernel ?? automatic(for: .current)
        case .failure(let message):
            let line = "socprof: \(message); choosing the GEMM kernel from the CPU\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return automatic(for: .current)
        }
    }()

    /// `SOCPROF_GEMM_KERNEL`'s value: nil, empty or `auto` for the automatic choice, else the name
    /// of a kernel `cpu` can run, optionally with its blocking (`zmm12x32:kc,mc,nc`, elements; for
    /// tuning on a new CPU).
    public static func override(_ value: String?, cpu: CPU) -> Result<GEMMKernel?, OverrideError> {
        guard var value, !value.isEmpty, value != "auto" else { return .success(nil) }
        var blocking: [Int]?
        if let colon = value.firstIndex(of: ":") {
            let numbers = value[value.index(after: colon)...].split(separator: ",").map { Int($0) }
            guard numbers.count == 3, let kc = numbers[0], let mc = numbers[1], let nc = numbers[2],
                  (1...4096).contains(kc), (1...4096).contains(mc), (1...65536).contains(nc) else {
                return .failure(OverrideError(description: "SOCPROF_GEMM_KERNEL=\(value): the blocking after ':' must be kc,mc,nc (e.g. 256,144,3072)"))
            }
            blocking = [kc, mc, nc]
            value = String(value[..<colon])
        }
        let can = runnable(on: cpu)
        guard let kernel = can.first(where: { $0.name == value }) else {
            let why = named(value) != nil ? "needs \(named(value)!.needs.rawValue), which this CPU lacks" : "is not compiled into this build"
            return .failure(OverrideError(description: "SOCPROF_GEMM_KERNEL=\(value) \(why); this CPU runs auto, "
                                          + can.map(\.name).joined(separator: ", ")))
        }
        if let blocking { return .success(kernel.blocking(kc: blocking[0], mc: blocking[1], nc: blocking[2])) }
        return .success(kernel)
    }

    /// A `SOCPROF_GEMM_KERNEL` value that names no kernel this CPU runs, or a bad blocking.
    public struct OverrideError: Error, CustomStringConvertible, Equatable {
        /// What was wrong and which names this CPU runs.
        public let description: String
    }

    /// The CPU as the kernel choice sees it: on x86 from cpuid (vendor, family, model, the vector
    /// extensions the OS enables); elsewhere only `.base`.
    public struct CPU: Sendable, Equatable, CustomStringConvertible {
        /// The cpuid vendor string: GenuineIntel, AuthenticAMD, anything else.
        public enum Vendor: String, Sendable { case intel, amd, other }
        /// Who made it.
        public var vendor: Vendor
        /// The family with the extended family added (AMD Zen 3 and Zen 4: 0x19, Zen 5: 0x1a).
        public var family: Int
        /// The model with the extended model folded in.
        public var model: Int
        /// The widest extension it runs (and this build may use: AVX-512 only where
        /// SOCPROF_AVX512 was defined at build time).
        public var features: Feature

        /// A CPU as described (tests build Zen 4, Zen 3 and Intel ones).
        public init(vendor: Vendor, family: Int, model: Int, features: Feature) {
            self.vendor = vendor
            self.family = family
            self.model = model
            self.features = features
        }

        /// Whether it runs kernels that need `f`.
        public func has(_ f: Feature) -> Bool { f <= features }

        /// AMD Zen 4 (family 0x19 with AVX-512; Zen 3 has none): 512-bit operations run as two
        /// 256-bit halves, one zmm FMA a cycle against two ymm ones.
        public var isZen4: Bool { vendor == .amd && family == 0x19 && has(.avx512) }

        /// E.g. `amd family 0x19 model 0x11, avx512`.
        public var description: String {
            "\(vendor.rawValue) family 0x\(String(family, radix: 16)) model 0x\(String(model, radix: 16)), \(features.rawValue)"
        }

        /// This machine's CPU.
        public static let current: CPU = {
            var id = socprof_x86_cpu()
            guard socprof_x86_cpu_identify(&id) != 0 else { return CPU(vendor: .other, family: 0, model: 0, features: .base) }
            var features = Feature.base
            if id.avx2 != 0 && id.fma != 0 { features = .avx2 }
            #if SOCPROF_AVX512
            if features == .avx2 && id.avx512f != 0 && id.avx512vl != 0 { features = .avx512 }
            #endif
            return CPU(vendor: id.vendor == 1 ? .intel : id.vendor == 2 ? .amd : .other,
                       family: Int(id.family), model: Int(id.model), features: features)
        }()
    }
}

extension GEMM {
    /// The kernel GEMM runs by default (`GEMMKernel.current`).
    public static var kernel: GEMMKernel { GEMMKernel.current }
}
