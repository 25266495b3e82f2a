import Glibc
import Kernels
import Testing

/// The aarch64 microkernel choice per CPU (ArmMicrokernels.swift), from MIDR strings, /proc/cpuinfo
/// text and fixture trees laid out like an arm64 board's; and the fixed peak-FMA loop's values.
@Suite("ARM microkernel selection")
struct ArmMicrokernelSelectionTests {
    @Test("MIDR as the arm64 kernel prints it: implementer and part number")
    func midr() throws {
        let a53 = try #require(ArmKernelTable.parseMIDR("0x00000000410fd034\n"))
        #expect(a53.implementer == 0x41 && a53.part == 0xd03)
        let a57 = try #require(ArmKernelTable.parseMIDR("0x00000000411fd071"))  // Jetson Nano
        #expect(a57.implementer == 0x41 && a57.part == 0xd07)
        let a55 = try #require(ArmKernelTable.parseMIDR("0x00000000412fd050"))
        #expect(a55.part == 0xd05)
        #expect(ArmKernelTable.parseMIDR("") == nil)
        #expect(ArmKernelTable.parseMIDR("not a number") == nil)
    }

    @Test("Core types: A53 and A55 run their in-order kernels, everything else the SIMD kernel")
    func coreTable() {
        #expect(ArmMicrokernel.forCore(implementer: 0x41, part: 0xd03) == .a53)
        #expect(ArmMicrokernel.forCore(implementer: 0x41, part: 0xd05) == .a55)
        for part in [0xd07, 0xd08, 0xd09, 0xd0b, 0xd0c, 0xc07, 0xd04] {
            #expect(ArmMicrokernel.forCore(implementer: 0x41, part: part) == .ooo, "part \(part)")
        }
        // The part number alone is not enough: another implementer's 0xd03 is not an A53.
        #expect(ArmMicrokernel.forCore(implementer: 0x48, part: 0xd03) == .ooo)
    }

    @Test("/proc/cpuinfo: one entry per processor block with both fields")
    func cpuinfo() {
        let text = """
        processor\t: 0
        BogoMIPS\t: 3.84
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid
        CPU implementer\t: 0x41
        CPU architecture: 8
        CPU variant\t: 0x0
        CPU part\t: 0xd03
        CPU revision\t: 4

        processor\t: 4
        CPU implementer\t: 0x41
        CPU part\t: 0xd09
        CPU revision\t: 2

        processor\t: 5
        BogoMIPS\t: 3.84

        """
        let parsed = ArmKernelTable.parseCPUInfo(text)
        #expect(parsed.keys.sorted() == [0, 4])
        #expect(parsed[0]?.implementer == 0x41 && parsed[0]?.part == 0xd03)
        #expect(parsed[4]?.part == 0xd09)
        // x86-64's cpuinfo names no ARM part.
        #expect(ArmKernelTable.parseCPUInfo("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n").isEmpty)
    }

    @Test("A big.LITTLE tree: midr_el1 first, /proc/cpuinfo for CPUs without it, SIMD kernel for the rest")
    func bigLittleTree() throws {
        let root = try FixtureTree()
        defer { root.remove() }
        // HiKey 970-like: cpu0-1 A53 (midr_el1), cpu2 an A55 known only from cpuinfo, cpu3 an A73,
        // cpu4 an A76 whose regs directory is missing and which cpuinfo does not list either.
        try root.write("sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "0x00000000410fd034\n")
        try root.write("sys/devices/system/cpu/cpu1/regs/identification/midr_el1", "0x00000000410fd034\n")
        try root.mkdir("sys/devices/system/cpu/cpu2")
        try root.write("sys/devices/system/cpu/cpu3/regs/identification/midr_el1", "0x00000000412fd092\n")
        try root.mkdir("sys/devices/system/cpu/cpu4")
        try root.write("proc/cpuinfo", "processor\t: 2\nCPU implementer\t: 0x41\nCPU part\t: 0xd05\n\n"
                       + "processor\t: 3\nCPU implementer\t: 0x41\nCPU part\t: 0xd03\n")
        let table = ArmKernelTable.load(root: root.path)
        #expect(table.perCPU == [.a53, .a53, .a55, .ooo, .ooo])  // cpu3: midr_el1 wins over cpuinfo
        #expect(table.forced == nil)
        #expect(table.kernel(cpu: 2) == .a55)
        #expect(table.kernel(cpu: 17) == .ooo && table.kernel(cpu: -1) == .ooo)
        let forced = ArmKernelTable.load(root: root.path, forced: .a55)
        #expect(forced.perCPU == table.perCPU)
        #expect((0..<6).allSatisfy { forced.kernel(cpu: $0) == .a55 })
    }

    @Test("SOCPROF_ARM_KERNEL: a kernel's name forces it, auto or nothing means per core, anything else is refused")
    func override() throws {
        #expect(try ArmKernelTable.override(nil).get() == nil)
        #expect(try ArmKernelTable.override("").get() == nil)
        #expect(try ArmKernelTable.override("auto").get() == nil)
        for kernel in ArmMicrokernel.allCases {
            #expect(try ArmKernelTable.override(kernel.rawValue).get() == kernel)
        }
        guard case .failure(let error) = ArmKernelTable.override("A53") else {
            Issue.record("A53 (upper case) accepted"); return
        }
        #expect(error.description.contains("a53, a55, ooo"))
    }

    @Test("The peak-FMA loop accumulates into its chains and stays where it started")
    func fmaLoopValues() {
        // a_k = 1 + k(1 - s) plus n·(1 - s)·s² per lane: with s = 0.5 the increment (1/8) is exact.
        let lanes = Float(Ceilings.Vector.scalarCount)
        let start = (0..<12).reduce(Float(0)) { $0 + 1 + Float($1) * 0.5 }
        #expect(Ceilings.fmaLoop(iterations: 0, seed: 0.5) == lanes * start)
        #expect(Ceilings.fmaLoop(iterations: 8, seed: 0.5) == lanes * (start + 12 * 8 * 0.125))
        // The ceiling's seed: x·y = 1e-14 rounds away, so however long it runs the sum is its start.
        let s: Float = 1e-7
        let sum0 = Ceilings.fmaLoop(iterations: 0, seed: s)
        #expect(Ceilings.fmaLoop(iterations: 100_000, seed: s) == sum0)
        #expect(sum0.isNormal)
    }
}

/// A scratch directory for fixture trees.
struct FixtureTree {
    let path: String

    init() throws {
        var template = Array("/tmp/socprof-armsel-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw Failure(message: "mkdtemp failed") }
        path = String(cString: p)
    }

    struct Failure: Error { let message: String }

    func mkdir(_ relative: String) throws {
        var dir = path
        for part in relative.split(separator: "/") {
            dir += "/" + part
            if Glibc.mkdir(dir, 0o755) != 0 && errno != EEXIST { throw Failure(message: "mkdir \(dir)") }
        }
    }

    func write(_ relative: String, _ text: String) throws {
        if let slash = relative.lastIndex(of: "/") { try mkdir(String(relative[..<slash])) }
        guard let f = fopen(path + "/" + relative, "w") else { throw Failure(message: "fopen \(relative)") }
        fputs(text, f)
        fclose(f)
    }

    func remove() { Self.removeTree(path) }

    static func removeTree(_ path: String) {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                guard name != "." && name != ".." else { continue }
                removeTree(path + "/" + name)
            }
            closedir(dir)
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
