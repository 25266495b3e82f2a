#if canImport(Glibc)
import Glibc
#endif
import CArmKernels

/// The aarch64 GEMM microkernels (all the 8x12 tile of `neon8x12`, with the same packing), one per
/// core type, and which one each CPU runs. On an aarch64 board `GEMM.armMicrokernel8x12` looks up
/// the CPU the calling thread runs on (checked again every 64 tiles) in `ArmKernelTable.current`,
/// so that each cluster of a big.LITTLE SoC runs its own schedule. Compiled on every target (the
/// selection is tested on the host); only aarch64 Linux calls the assembly kernels.
public enum ArmMicrokernel: String, CaseIterable, Sendable {
    /// Cortex-A53 (part 0xd03): assembly, each k step's 128-bit loads grouped after its 24 `fmla`.
    case a53
    /// Cortex-A55 (part 0xd05): assembly, 64-bit loads (`ldr d`, `ldr x` + `ins`) spread between
    /// the `fmla` so that they dual-issue with them.
    case a55
    /// Out-of-order cores (Cortex-A57, A72, A73, A76 ...) and every core not named above: the
    /// generated Swift SIMD kernel (`GEMM.microkernelSIMD`).
    case ooo

    /// The kernel for a core, from its MIDR's implementer and part number (Arm Ltd. is 0x41).
    public static func forCore(implementer: Int, part: Int) -> ArmMicrokernel {
        guard implementer == 0x41 else { return .ooo }
        switch part {
        case 0xd03: return .a53
        case 0xd05: return .a55
        default: return .ooo
        }
    }
}

/// Which microkernel each CPU runs: read once from the MIDR of every CPU, or forced for all of
/// them with `SOCPROF_ARM_KERNEL=a53|a55|ooo` (`auto` or unset: per core).
public struct ArmKernelTable: Sendable, Equatable {
    /// The kernel of CPU n at index n. A CPU past the end (one that was offline when the table was
    /// read, or an unknown number) runs `.ooo`.
    public let perCPU: [ArmMicrokernel]
    /// Set by `SOCPROF_ARM_KERNEL`: every CPU runs this kernel.
    public let forced: ArmMicrokernel?

    public init(perCPU: [ArmMicrokernel], forced: ArmMicrokernel? = nil) {
        self.perCPU = perCPU
        self.forced = forced
    }

    /// The kernel CPU `cpu` runs.
    public func kernel(cpu: Int) -> ArmMicrokernel {
        if let forced { return forced }
        return cpu >= 0 && cpu < perCPU.count ? perCPU[cpu] : .ooo
    }

    /// The table of this system, read on first use: from `SOCPROF_ROOT` (a fixture tree, as for
    /// the rest of socprof) or `/`, and `SOCPROF_ARM_KERNEL`.
    public static let current: ArmKernelTable = {
        let root = getenv("SOCPROF_ROOT").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/"
        let value = getenv("SOCPROF_ARM_KERNEL").map { String(cString: $0) }
        let forced: ArmMicrokernel?
        switch override(value) {
        case .success(let kernel): forced = kernel
        case .failure(let message):
            let line = "socprof: \(message); choosing the kernel per core\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            forced = nil
        }
        return load(root: root, forced: forced)
    }()

    /// `SOCPROF_ARM_KERNEL`'s value: nil, empty or `auto` for per core, else a kernel's name.
    public static func override(_ value: String?) -> Result<ArmMicrokernel?, OverrideError> {
        guard let value, !value.isEmpty, value != "auto" else { return .success(nil) }
        guard let kernel = ArmMicrokernel(rawValue: value) else {
            return .failure(OverrideError(description: "SOCPROF_ARM_KERNEL=\(value) is not one of auto, "
                                          + ArmMicrokernel.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        return .success(kernel)
    }

    public struct OverrideError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Reads the table under `root`: CPU n's kernel from
    /// `sys/devices/system/cpu/cpuN/regs/identification/midr_el1` (arm64 kernels), else from the
    /// `processor : N` block of `proc/cpuinfo` ("CPU implementer", "CPU part"), else `.ooo`. CPUs
    /// are numbered up to the highest `cpuN` directory.
    public static func load(root: String, forced: ArmMicrokernel? = nil) -> ArmKernelTable {
        let base = root.hasSuffix("/") ? root : root + "/"
        let cpuDir = base + "sys/devices/system/cpu/"
        var count = 0
        while count < 4096, access(cpuDir + "cpu\(count)", F_OK) == 0 { count += 1 }
        let cpuinfo = readText(base + "proc/cpuinfo").map(parseCPUInfo) ?? [:]
        count = max(count, (cpuinfo.keys.max() ?? -1) + 1)
        let perCPU = (0..<count).map { n -> ArmMicrokernel in
            let id = readText(cpuDir + "cpu\(n)/regs/identification/midr_el1").flatMap(parseMIDR) ?? cpuinfo[n]
            return id.map { ArmMicrokernel.forCore(implementer: $0.implementer, part: $0.part) } ?? .ooo
        }
        return ArmKernelTable(perCPU: perCPU, forced: forced)
    }

    /// Implementer and part number of a MIDR as the arm64 kernel prints it ("0x00000000410fd034":
    /// implementer bits 31-24, part number bits 15-4).
    public static func parseMIDR(_ text: String) -> (implementer: Int, part: Int)? {
        var s = Substring(text.filter { !$0.isWhitespace })
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        guard !s.isEmpty, let midr = UInt64(s, radix: 16) else { return nil }
        return (Int((midr >> 24) & 0xff), Int((midr >> 4) & 0xfff))
    }

    /// "CPU implementer" and "CPU part" of each `processor : N` block of /proc/cpuinfo (arm64 and
    /// 32-bit ARM kernels print both per CPU); CPUs without both are left out.
    public static func parseCPUInfo(_ text: String) -> [Int: (implementer: Int, part: Int)] {
        var result: [Int: (implementer: Int, part: Int)] = [:]
        var cpu: Int?, implementer: Int?, part: Int?
        func flush() {
            if let cpu, let implementer, let part { result[cpu] = (implementer, part) }
            cpu = nil; implementer = nil; part = nil
        }
        func number(_ v: Substring) -> Int? {
            v.hasPrefix("0x") || v.hasPrefix("0X") ? Int(v.dropFirst(2), radix: 16) : Int(v)
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces, value = line[line.index(after: colon)...].trimmingSpaces
            switch key {
            case "processor":
                flush()
                cpu = Int(value)
            case "CPU implementer": implementer = number(value)
            case "CPU part": part = number(value)
            default: break
            }
        }
        flush()
        return result
    }

    static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return s
    }
}

extension GEMM {
    #if arch(arm64)
    /// The full 8x12 tile of `neon8x12` (`GEMMKernel`), with the schedule of the core the calling
    /// thread runs on: the assembly kernels of CArmKernels on in-order Cortex-A53 and A55, the
    /// generated Swift SIMD kernel (`microkernelSIMD`) elsewhere. The kernels for fewer rows are
    /// the generated ones everywhere. (Written by hand; Microkernels.swift is generated.)
    static let armMicrokernel8x12: GEMMMicrokernel = { kc, a, astride, b, c, ldc, accumulate in
        #if os(Linux)
        switch ArmKernelTable.current.kernel(cpu: Int(socprof_current_cpu_cached())) {
        case .a53: socprof_sgemm_8x12_a53(kc, a, b, c, ldc, accumulate ? 1 : 0)
        case .a55: socprof_sgemm_8x12_a55(kc, a, b, c, ldc, accumulate ? 1 : 0)
        case .ooo: microkernelSIMD(kc: kc, a: a, astride: astride, b: b, c: c, ldc: ldc, accumulate: accumulate)
        }
        #else
        microkernelSIMD(kc: kc, a: a, astride: astride, b: b, c: c, ldc: ldc, accumulate: accumulate)
        #endif
    }
    #endif

    /// The microkernel `GEMM.microkernel` runs on the calling thread's current CPU (on aarch64
    /// Linux; `.ooo` everywhere else, where there is one kernel).
    public static var armMicrokernelForThisThread: ArmMicrokernel {
        #if arch(arm64) && os(Linux)
        ArmKernelTable.current.kernel(cpu: Int(socprof_current_cpu_cached()))
        #else
        .ooo
        #endif
    }
}
