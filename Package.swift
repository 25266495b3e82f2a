// swift-tools-version:6.0
import PackageDescription
import Foundation

// Release builds compile for the CPU they run on: without a target that has FMA/NEON, Swift SIMD
// lowers each lane to a libm call (about 200x slower; see docs/kernels.md). Set
// SOCPROF_TARGET_CPU to another LLVM CPU name (or "generic") to cross-build.
let targetCPU = ProcessInfo.processInfo.environment["SOCPROF_TARGET_CPU"] ?? "native"

// Whether the x86-64 build contains the AVX-512 GEMM kernels (zmm tiles; the AVX2 ymm tiles are
// always there), among which Kernels chooses at run time from cpuid (GEMMKernel.swift). Detected
// for "native" builds from /proc/cpuinfo; SOCPROF_AVX512=1/0 overrides (set it when
// cross-building; an AVX2 build, SOCPROF_TARGET_CPU=haswell SOCPROF_AVX512=0, has no AVX-512
// instruction).
let avx512: Bool = {
    if let v = ProcessInfo.processInfo.environment["SOCPROF_AVX512"] { return v == "1" }
    guard targetCPU == "native", let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return info.contains(" avx512f")
}()
let kernelDefines: [SwiftSetting] = avx512 ? [.define("SOCPROF_AVX512")] : []
let releaseSwift: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU], .when(configuration: .release)),
]
// clang names a CPU with -march on x86 and -mcpu on ARM.
#if arch(x86_64) || arch(i386)
let cpuFlag = "-march=\(targetCPU)"
#else
let cpuFlag = targetCPU == "native" ? "-march=native" : "-mcpu=\(targetCPU)"
#endif
let releaseC: [CSetting] = targetCPU == "generic" ? [] : [
    .unsafeFlags([cpuFlag], .when(configuration: .release)),
]

let package = Package(
    name: "socprof",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "socprof", targets: ["socprof"]),
        .library(name: "Counters", targets: ["Counters"]),
        .library(name: "Platform", targets: ["Platform"]),
        .library(name: "Networks", targets: ["Networks"]),
        .library(name: "Kernels", targets: ["Kernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // The C shims, one per job: perf_event_open, its ioctls and the mmap'ed counter page
        // (CPerfEvent); threads, CPU affinity, a fork/exec that waits for the counters to be
        // opened, signals and interrupts (CLinux); the benchmarks' reference loops (CBench).
        .target(name: "CPerfEvent", cSettings: releaseC),
        .target(name: "CLinux"),
        .target(name: "CBench", cSettings: releaseC),
        // gem5's pseudo-instructions (m5ops) for aarch64 and 32-bit ARM, guarded against SIGILL.
        .target(name: "CM5Ops"),
        // Kernels with counts known by construction for `socprof check` (a counted asm loop, a
        // pointer chase, a stream).
        .target(name: "CCheckKernels"),
        // The aarch64 GEMM microkernels for in-order Cortex cores (assembly; empty elsewhere), the
        // cached current CPU that Kernels picks an aarch64 microkernel by, and cpuid, by which it
        // picks the x86-64 tile.
        .target(name: "CArmKernels"),
        // The int8 GEMM microkernels and requantization (x86-64 AVX-512 VNNI and AVX2, aarch64 sdot
        // and smull, 32-bit ARM NEON, portable C), each x86 one compiled for its instruction set by
        // a target attribute and picked at run time (Int8Kernel.swift). Optimised in every
        // configuration, as Kernels is: the tests run them on real shapes.
        .target(name: "CInt8Kernels", cSettings: [.unsafeFlags(["-O2"])]),
        // libpfm4 from Debian's libpfm4-dev (scripts/lib/deps.sh installs it).
        .systemLibrary(name: "CPfm", providers: [.apt(["libpfm4-dev"])]),
        // The Linux system layer, without Foundation: the sysfs/procfs root, CPU sets and
        // affinity, child processes, interrupts, errno names.
        .target(
            name: "LinuxSystem",
            dependencies: ["CLinux", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: releaseSwift
        ),
        .target(
            name: "Counters",
            dependencies: [
                "CPerfEvent", "CPfm", "LinuxSystem",
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: releaseSwift
        ),
        .target(
            name: "Platform",
            dependencies: ["Counters", "LinuxSystem", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: releaseSwift
        ),
        .target(name: "Networks", swiftSettings: releaseSwift),
        // Kernels are optimised for the host CPU in every configuration: the tests run whole
        // networks, and an unoptimised SIMD kernel is ~100x slower.
        .target(name: "Kernels", dependencies: ["LinuxSystem", "CLinux", "CBench", "CArmKernels", "CInt8Kernels", "Networks"],
                swiftSettings: [.unsafeFlags(["-O", "-target-cpu", targetCPU])] + kernelDefines),
        // The profile report's values (what `profile --format json` writes and every renderer reads).
        .target(name: "ProfileModel", dependencies: ["Networks"], swiftSettings: releaseSwift),
        .target(name: "Profiler", dependencies: ["ProfileModel", "LinuxSystem", "Counters", "Platform", "Kernels", "Networks"], swiftSettings: releaseSwift),
        .target(name: "Reports", dependencies: ["LinuxSystem", "Networks", "Kernels", "ProfileModel", "Profiler", "Experiments"], swiftSettings: releaseSwift),
        // Simulator calibration: gem5 stats beside measured counters, PMC power models.
        .target(name: "Calibration", swiftSettings: releaseSwift),
        // Experiments across frequencies and clusters: power-model samples, sweeps, co-execution.
        .target(name: "Experiments", dependencies: ["LinuxSystem", "Counters", "Platform", "Kernels", "Networks", "Profiler", "CBench", "CCheckKernels"], swiftSettings: releaseSwift),
        .target(
            name: "SocprofCLI",
            dependencies: [
                "LinuxSystem", "Counters", "Platform", "CBench", "Networks", "Kernels", "ProfileModel", "Profiler", "Reports", "Calibration", "CM5Ops", "Experiments",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: releaseSwift
        ),
        .executableTarget(name: "socprof", dependencies: ["SocprofCLI"], swiftSettings: releaseSwift),
        .target(name: "TestSupport", dependencies: ["LinuxSystem", "Counters", "CPerfEvent", "Kernels", .product(name: "SystemPackage", package: "swift-system")], path: "Tests/TestSupport"),
        .testTarget(name: "PlatformTests", dependencies: ["LinuxSystem", "Platform", "Counters", "TestSupport"]),
        .testTarget(name: "ProfilerTests", dependencies: ["ProfileModel", "Profiler", "Reports", "Platform", "Counters", "Networks", "Kernels", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Experiments", "Counters", "TestSupport", .product(name: "SystemPackage", package: "swift-system")], exclude: ["Golden", "Fixtures"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks"]),
        .testTarget(name: "CalibrationTests", dependencies: ["Calibration", "Kernels", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["LinuxSystem", "Experiments", "Calibration", "Platform", "Counters", "Kernels", "Networks", "TestSupport", "CPerfEvent"]),
        .testTarget(name: "KernelsTests", dependencies: ["LinuxSystem", "Kernels", "Networks", "CInt8Kernels"]),
        .testTarget(name: "CountersTests", dependencies: ["LinuxSystem", "Counters", "TestSupport", "CPerfEvent"]),
        .testTarget(name: "SocprofCLITests", dependencies: ["LinuxSystem", "SocprofCLI", "TestSupport", "Profiler", "Counters", "Kernels", "Networks", "CPerfEvent", .product(name: "SystemPackage", package: "swift-system")]),
    ]
)
