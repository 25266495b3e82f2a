#if canImport(Glibc)
import Glibc
#endif
import CInt8Kernels

/// The int8 GEMM microkernels (CInt8Kernels), their tile shapes and packing, and which one this
/// CPU runs. Each computes an MR x NR tile of int32 sums over K in groups of G consecutive k, from
/// A (weights, int8) packed [K/G][MR][G] and B (activations) packed [K/G][NR][G].
public enum Int8Kernel: String, CaseIterable, Sendable {
    /// x86-64 with AVX-512 VNNI: `vpdpbusd` (uint8 activations x int8 weights, 4 products into
    /// each int32 lane), 8 x 48 tile.
    case vnni
    /// x86-64 with AVX2: `vpmaddubsw` (two uint8 x int8 products into each int16) then `vpmaddwd`
    /// by ones (two int16 into each int32 lane), 6 x 16 tile, 4 k a step. The int16 sums would
    /// saturate for weights beyond -64...64 (2 x 255 x 64 = 32640), so the layers that run it
    /// quantize their weights to that range (`weightLimit`), as onnxruntime's reduce_range does for
    /// the same instruction: a bit of weight precision for 26 vector operations per 192 MACs
    /// becoming 18. Chosen over `avx2` where AVX2 is the best the CPU has.
    case maddubs
    /// x86-64 with AVX2: activations widened to int16 (`vpmovzxbw`) and multiplied by pairs of
    /// int16 weights with `vpmaddwd`, exact, 6 x 16 tile (`vpmaddubsw` would saturate its int16 sums).
    case avx2
    /// aarch64 with the Armv8.2 dot product (HWCAP_ASIMDDP): `sdot` by element, 8 x 12 tile.
    case sdot
    /// aarch64 without it: `smull`/`smlal2`/`sadalp`, 4 x 4 tile over 16 k at a time.
    case smull
    /// 32-bit ARM NEON: `vmull.s8`/`vmlal.s8`/`vpadal.s16`, 4 x 2 tile over 16 k at a time.
    case neon32
    /// Portable C, any CPU: 4 x 8 tile.
    case reference

    /// Rows of the tile (output channels).
    public var mr: Int {
        switch self { case .vnni, .sdot: 8; case .avx2, .maddubs: 6; case .smull, .neon32, .reference: 4 }
    }
    /// Columns of the tile (output pixels).
    public var nr: Int {
        switch self { case .vnni: 48; case .avx2, .maddubs: 16; case .sdot: 12; case .smull: 4; case .neon32: 2; case .reference: 8 }
    }
    /// Consecutive k a kernel step takes per row and column.
    public var kGroup: Int {
        switch self { case .vnni, .maddubs, .sdot, .reference: 4; case .avx2: 2; case .smull, .neon32: 16 }
    }
    /// Whether the kernel multiplies int8 by int8 (B packed as int8), rather than uint8 by int8.
    public var signedB: Bool {
        switch self { case .sdot, .smull, .neon32: true; case .vnni, .maddubs, .avx2, .reference: false }
    }
    /// Bytes per packed weight: 2 for the AVX2 kernel (weights widened to int16 once, when packed).
    public var aElementBytes: Int { self == .avx2 ? 2 : 1 }
    /// The largest |weight| the kernel multiplies exactly: 64 for `maddubs`, 127 for the others
    /// (every kernel refuses -128: the smull/vmull kernels add two products in int16).
    public var weightLimit: Int8 { self == .maddubs ? 64 : 127 }
    /// What the kernel does to a network's int8 weights, for reports: the kernel, its instruction
    /// and the range of the weights of the layers it runs.
    public var weightsSummary: String {
        switch self {
        case .maddubs:
            return "int8 GEMM kernel maddubs (AVX2 vpmaddubsw): the convolutions it runs have weights in -64...64, so that its int16 sums of two products cannot saturate (onnxruntime's reduce_range); depthwise and one-pixel layers keep -127...127"
        default:
            return "int8 GEMM kernel \(rawValue): weights in -127...127"
        }
    }

    /// Whether it is one of the AVX2 kernels, which share the AVX2 depthwise kernel, B packing
    /// and requantization.
    var isAVX2: Bool { self == .avx2 || self == .maddubs }

    /// Whether this CPU (and this build) runs the kernel.
    public var isSupported: Bool {
        let f = Int(socprof_i8_cpu_features())
        switch self {
        case .reference: return true
        case .vnni: return f & Int(SOCPROF_I8_X86_AVX512VNNI) != 0
        case .avx2, .maddubs: return f & Int(SOCPROF_I8_X86_AVX2) != 0
        case .sdot: return f & Int(SOCPROF_I8_AARCH64) != 0 && f & Int(SOCPROF_I8_ARM_DOTPROD) != 0
        case .smull: return f & Int(SOCPROF_I8_AARCH64) != 0
        case .neon32: return f & Int(SOCPROF_I8_ARMV7) != 0
        }
    }

    /// The kernels this CPU runs, fastest first (the reference last).
    public static var supported: [Int8Kernel] { allCases.filter(\.isSupported) }

    /// The fastest kernel this CPU runs: VNNI, else maddubs (AVX2) on x86-64; sdot, else smull on aarch64;
    /// NEON on 32-bit ARM; else the reference.
    public static var best: Int8Kernel { supported.first ?? .reference }

    /// The kernel socprof runs: `SOCPROF_INT8_KERNEL` (a kernel's name; `auto` or unset: `best`),
    /// read once. A kernel this CPU cannot run is refused with a message on stderr, and `best` runs.
    public static let current: Int8Kernel = {
        let value = getenv("SOCPROF_INT8_KERNEL").map { String(cString: $0) }
        switch override(value) {
        case .success(let kernel): return kernel ?? best
        case .failure(let message):
            let line = "socprof: \(message); using \(best))\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            return best
        }
    }()

    /// `SOCPROF_INT8_KERNEL`'s value: nil, empty or `auto` for the best kernel, else a kernel's
    /// name that this CPU runs.
    public static func override(_ value: String?) -> Result<Int8Kernel?, ArmKernelTable.OverrideError> {
        guard let value, !value.isEmpty, value != "auto" else { return .success(nil) }
        guard let kernel = Int8Kernel(rawValue: value) else {
            return .failure(.init(description: "SOCPROF_INT8_KERNEL=\(value) is not one of auto, " + allCases.map(\.rawValue).joined(separator: ", ")))
        }
        guard kernel.isSupported else {
            return .failure(.init(description: "SOCPROF_INT8_KERNEL=\(value): this CPU cannot run it (it runs " +
                                  supported.map(\.rawValue).joined(separator: ", ") + ")"))
        }
        return .success(kernel)
    }

    /// Runs the microkernel on one packed A panel and one packed B panel: `kq` groups of k, the
    /// MR x NR int32 tile into `c` (NR a row).
    /// `columns` (at most NR): the columns of the tile that are wanted; the VNNI kernel computes
    /// only the first 16 or 32 when no more are (the others leave the rest of each row of `c` as
    /// it was), the others all NR.
    @inline(__always)
    func tile(kq: Int, a: UnsafeRawPointer, b: UnsafeRawPointer, c: UnsafeMutablePointer<Int32>, columns: Int = .max) {
        switch self {
        case .vnni:
            let a = a.assumingMemoryBound(to: Int8.self), b = b.assumingMemoryBound(to: UInt8.self)
            if columns <= 16 {
                socprof_i8_kernel_vnni_8x16(kq, a, b, c)
            } else if columns <= 32 {
                socprof_i8_kernel_vnni_8x32(kq, a, b, c)
            } else {
                socprof_i8_kernel_vnni_8x48(kq, a, b, c)
            }
        case .maddubs: socprof_i8_kernel_avx2b_6x16(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: UInt8.self), c)
        case .avx2: socprof_i8_kernel_avx2_6x16(kq, a.assumingMemoryBound(to: Int16.self), b.assumingMemoryBound(to: UInt8.self), c)
        case .sdot: socprof_i8_kernel_sdot_8x12(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: Int8.self), c)
        case .smull: socprof_i8_kernel_smull_4x4(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: Int8.self), c)
        case .neon32: socprof_i8_kernel_neon32_4x2(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: Int8.self), c)
        case .reference: socprof_i8_kernel_ref_4x8(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: UInt8.self), c)
        }
    }

    /// The tiles of a panel of A (`a`, `rows` of it) by `cols` columns of B packed from `b` in
    /// panels `panelBytes` apart, each requantized from the microkernel's registers (as
    /// `requantize` would the tile `tile` makes), in one call, for the kernels that have that
    /// form: VNNI (`socprof_i8_gemm_vnni_requant`) and the AVX2 ones
    /// (`socprof_i8_gemm_avx2b_requant`, `socprof_i8_gemm_avx2_requant`). `rows` x `cols` bytes
    /// (`rows` at most MR) into `out`; false, with nothing done, for the other kernels.
    @inline(__always)
    func requantizedPanels(kq: Int, a: UnsafeRawPointer, b: UnsafeRawPointer, panelBytes: Int, rows: Int, cols: Int, rowAdd: UnsafePointer<Int32>,
                           rowScale: UnsafePointer<Float>, zeroPoint: Int32, min lo: Int32, max hi: Int32, out: UnsafeMutablePointer<UInt8>,
                           ldout: Int) -> Bool {
        switch self {
        case .vnni:
            socprof_i8_gemm_vnni_requant(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: UInt8.self), panelBytes, rows, cols,
                                         rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .maddubs:
            socprof_i8_gemm_avx2b_requant(kq, a.assumingMemoryBound(to: Int8.self), b.assumingMemoryBound(to: UInt8.self), panelBytes, rows, cols,
                                          rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .avx2:
            socprof_i8_gemm_avx2_requant(kq, a.assumingMemoryBound(to: Int16.self), b.assumingMemoryBound(to: UInt8.self), panelBytes, rows, cols,
                                         rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .sdot, .smull, .neon32, .reference:
            return false
        }
        return true
    }

    /// Packs group p of B for the kernel (`socprof_i8_pack_group`: `rows` holds the group's G
    /// rows of `cols` bytes; `into` is group p of the first panel, panels `panelBytes` apart),
    /// 64 columns at a time with AVX-512 for the VNNI kernel, 32 with AVX2 for the AVX2 ones.
    @inline(__always)
    func packGroup(_ rows: UnsafePointer<UnsafePointer<UInt8>?>, cols: Int, panelBytes: Int, flip: UInt8, into dst: UnsafeMutablePointer<UInt8>) {
        if self == .vnni {
            socprof_i8_pack_group_avx512(rows, kGroup, cols, nr, panelBytes, flip, dst)
        } else if isAVX2 {
            socprof_i8_pack_group_avx2(rows, kGroup, cols, nr, panelBytes, flip, dst)
        } else {
            socprof_i8_pack_group(rows, kGroup, cols, nr, panelBytes, flip, dst)
        }
    }

    /// The requantization that goes with the kernel (every variant gives the same bytes; see
    /// `Requantization`).
    @inline(__always)
    func requantize(_ acc: UnsafePointer<Int32>, ldacc: Int, rows: Int, cols: Int, rowAdd: UnsafePointer<Int32>, rowScale: UnsafePointer<Float>,
                    zeroPoint: Int32, min lo: Int32, max hi: Int32, out: UnsafeMutablePointer<UInt8>, ldout: Int) {
        switch self {
        case .vnni: socprof_i8_requant_avx512(acc, ldacc, rows, cols, rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .avx2, .maddubs: socprof_i8_requant_avx2(acc, ldacc, rows, cols, rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .sdot, .smull, .neon32: socprof_i8_requant_neon(acc, ldacc, rows, cols, rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        case .reference: socprof_i8_requant_ref(acc, ldacc, rows, cols, rowAdd, rowScale, zeroPoint, lo, hi, out, ldout)
        }
    }
}
