// Correctness check of the Kernels module on a foreign CPU, for `scripts/cross-check aarch64 --run`
// (built for aarch64 and run under qemu-user): GEMM, convolution and one whole network against
// plain reference loops, written out here again (the same definitions as Tests/KernelsTests).
// Plain Swift without Foundation or Testing, since neither is available for the cross target.
// One line per check; exits 1 if any fails. scripts/cross-check runs it once per aarch64 microkernel
// (SOCPROF_ARM_KERNEL=a53|a55|ooo, the per-core choice, and a big.LITTLE fixture tree), and the
// last check says that the kernel each pinned thread ran is the one expected.
import Glibc
import Kernels
import Networks

/// Deterministic data in [-1, 1] (the tests' generator).
struct Random {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// A deliberately wrong reference (SOCPROF_CHECK_BREAK=1 in the environment) shows that the
/// checks can fail: every reference value is off by 1e-2.
let breakReference = getenv("SOCPROF_CHECK_BREAK").map { String(cString: $0) == "1" } ?? false
let skew: Double = breakReference ? 1e-2 : 0
var failures = 0

/// One check: each variant's result against its expected values, relative to scale (|x - y| <=
/// tolerance * (1 + |y|), the tests' `close`). Prints the largest error and the variants that
/// fail; a NaN or a length mismatch fails.
func check(_ name: String, _ results: [(variant: String, output: [Float], expected: [Float])], of what: String = "variants",
           tolerance: Float = 1e-4) {
    var worst: Float = 0
    var bad: [String] = []
    for (variant, x, expected) in results {
        var e: Float = x.count == expected.count ? 0 : .infinity
        for (a, b) in zip(x, expected) { let d = abs(a - b) / (1 + abs(b)); e = d.isNaN ? .infinity : max(e, d) }
        worst = max(worst, e)
        if !(e <= tolerance) { bad.append(variant) }
    }
    if !bad.isEmpty { failures += 1 }
    print("\(bad.isEmpty ? "ok  " : "FAIL") \(name): \(results.count) \(what), max rel. error \(worst)" +
          (bad.isEmpty ? "" : "; failing: " + bad.prefix(6).joined(separator: ", ") + (bad.count > 6 ? " and \(bad.count - 6) more" : "")))
}

// MARK: GEMM

func referenceGEMM(m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int, c: inout [Float], ldc: Int, accumulate: Bool) {
    for i in 0..<m {
        for j in 0..<n {
            var s: Double = accumulate ? Double(c[i * ldc + j]) : 0
            for p in 0..<k { s += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
            c[i * ldc + j] = Float(s + skew)
        }
    }
}

func checkGEMM(m: Int, n: Int, k: Int, pools: [(name: String, pool: ThreadPool)], note: String = "") {
    var rng = Random(UInt64(m * 1000 + n * 10 + k))
    // Leading dimensions larger than the matrices; the padding columns of C must stay untouched.
    let lda = k + 3, ldb = n + 5, ldc = n + 2
    let a = rng.array(m * lda), b = rng.array(k * ldb), c0 = rng.array(m * ldc)
    for accumulate in [false, true] {
        var expected = c0
        referenceGEMM(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &expected, ldc: ldc, accumulate: accumulate)
        var results: [(String, [Float], [Float])] = []
        // One workspace without a pool, then each pool.
        for (name, pool) in [("1 workspace", nil)] + pools.map({ ($0.name, Optional($0.pool)) }) {
            let ws = (0..<(pool?.count ?? 1)).map { _ in GEMM.Workspace() }
            var c = c0
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { c in
                if let pool {
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!, ldc: ldc,
                                  accumulate: accumulate, pool: pool, workspaces: ws)
                } else {
                    GEMM.multiply(m: m, n: n, k: k, a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, c: c.baseAddress!, ldc: ldc,
                                  accumulate: accumulate, workspace: ws[0])
                }
            } } }
            if !(0..<m).allSatisfy({ i in (n..<ldc).allSatisfy { c[i * ldc + $0] == c0[i * ldc + $0] } }) { c[0] = .nan }
            results.append((name, c, expected))
        }
        check("gemm \(m)x\(n)x\(k) accumulate=\(accumulate)\(note)", results)
    }
}

// MARK: Convolution

func referenceConv(_ c: Convolution, _ input: [Float], _ x: TensorShape, _ w: [Float], _ bias: [Float], _ y: TensorShape, _ act: Activation?) -> [Float] {
    var out = [Float](repeating: 0, count: y.count)
    let inG = x.c / c.groups, outG = y.c / c.groups
    for oc in 0..<y.c {
        let g = oc / outG
        for oy in 0..<y.h { for ox in 0..<y.w {
            var s = Double(bias[oc]) + skew
            for ic in 0..<inG { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW {
                let iy = oy * c.strideH - c.padding.top + ky, ix = ox * c.strideW - c.padding.left + kx
                guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                s += Double(input[((g * inG + ic) * x.h + iy) * x.w + ix]) * Double(w[((oc * inG + ic) * c.kernelH + ky) * c.kernelW + kx])
            } } }
            let v = Float(s)
            switch act { case .none: out[(oc * y.h + oy) * y.w + ox] = v
                         case .relu: out[(oc * y.h + oy) * y.w + ox] = max(v, 0)
                         case .relu6: out[(oc * y.h + oy) * y.w + ox] = min(max(v, 0), 6) }
        } }
    }
    return out
}

func checkConv(_ label: String, inC: Int, h: Int, w: Int, outC: Int, k: Int, stride: Int, pad: Padding, groups: Int, act: Activation?) {
    var rng = Random(UInt64(inC * 7919 + outC * 31 + k))
    let conv = Convolution(outputChannels: outC, kernel: k, stride: stride, padding: pad, groups: groups)
    let x = TensorShape(c: inC, h: h, w: w)
    var builder = GraphBuilder(name: "t", input: x)
    let y = builder.conv("c", builder.input, conv).shape
    let input = rng.array(x.count), weights = rng.array(outC * (inC / groups) * k * k), bias = rng.array(outC)
    let expected = referenceConv(conv, input, x, weights, bias, y, act)
    var results: [(String, [Float], [Float])] = []
    for threads in [1, 2] {
        let pool = ThreadPool(threads: threads)
        let ws = (0..<threads).map { _ in GEMM.Workspace() }
        for prepacked in [false, true] {
            var out = [Float](repeating: .nan, count: y.count)
            input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { o in
                let packed = prepacked ? LayerKernels.ConvWeights.pack(conv, inputChannels: x.c, outputPixels: y.h * y.w, weights: wp.baseAddress!) : nil
                LayerKernels.convolution(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                         weights: .init(weights: wp.baseAddress!, bias: bp.baseAddress!, packed: packed), activation: act,
                                         pool: pool, workspaces: ws, shared: GEMM.SharedB())
            } } } }
            results.append(("\(threads) thread(s)\(prepacked ? " prepacked" : "")", out, expected))
        }
    }
    check("conv \(label): \(inC)x\(h)x\(w) -> \(outC), k\(k) s\(stride) g\(groups) \(act?.rawValue ?? "linear")", results)
}

// MARK: Network

/// Runs a network on 1 and 2 threads: the outputs must be equal, every layer's output finite and
/// the final softmax sum to 1; on 2 threads, each convolution layer's output is also checked
/// against the reference on that layer's actual input and weights.
func checkNetwork(_ name: String) {
    guard let net = NetworkCatalog.network(named: name) else { failures += 1; print("FAIL network \(name): not in the catalog"); return }
    var outputs: [[Float]] = []
    var finite = true
    var layers: [(String, [Float], [Float])] = []
    for threads in [1, 2] {
        let runner = NetworkRunner(network: net, pool: ThreadPool(threads: threads), seed: 3)
        runner.setDeterministicInput(seed: 11)
        runner.run(afterLayer: { i in
            finite = finite && runner.output(of: i).allSatisfy(\.isFinite)
            let l = net.layers[i]
            guard threads == 2, case .convolution(let c) = l.kind else { return }
            // The layer's input is still live here (the activation plan keeps it until layer i).
            let expected = referenceConv(c, Array(runner.output(of: l.inputs[0])), net.layers[l.inputs[0]].output,
                                         Array(runner.weights.weights[i]!), Array(runner.weights.biases[i]!), l.output, l.activation)
            layers.append((l.name, Array(runner.output(of: i)), expected))
        })
        outputs.append(Array(runner.output(of: net.layers.count - 1)))
    }
    check("network \(name) on 2 threads, against the reference", layers, of: "conv layers")
    let sum = outputs[0].reduce(0, +)
    let ok = finite && outputs[0] == outputs[1] && abs(Double(sum) - 1 - skew) < 1e-4 && outputs[0].count == net.output.count
    if !ok { failures += 1 }
    let top = outputs[0].indices.max { outputs[0][$0] < outputs[0][$1] } ?? -1
    print("\(ok ? "ok  " : "FAIL") network \(name): \(net.layers.count) layers, all finite: \(finite), " +
          "1 and 2 threads equal: \(outputs[0] == outputs[1]), output sum \(sum), top class \(top)")
}

// MARK: Microkernel selection

/// The per-CPU microkernel table against the environment (SOCPROF_ARM_KERNEL forces one kernel;
/// KERNELS_CHECK_EXPECT, set with a fixture SOCPROF_ROOT, lists the kernel of each CPU), and the
/// kernel each thread of the pinned pool runs against its CPU's entry.
func checkSelection(pinned: ThreadPool) {
    let table = ArmKernelTable.current
    let env = { (name: String) in getenv(name).map { String(cString: $0) } ?? "" }
    let forcedName = env("SOCPROF_ARM_KERNEL"), expect = env("KERNELS_CHECK_EXPECT")
    var problems: [String] = []
    if forcedName.isEmpty || forcedName == "auto" {
        if table.forced != nil { problems.append("forced to \(table.forced!.rawValue) without SOCPROF_ARM_KERNEL") }
    } else if table.forced?.rawValue != forcedName {
        problems.append("SOCPROF_ARM_KERNEL=\(forcedName) but the table forces \(table.forced?.rawValue ?? "nothing")")
    }
    if !expect.isEmpty, table.perCPU.map(\.rawValue) != expect.split(separator: ",").map(String.init) {
        problems.append("per-CPU table \(table.perCPU.map(\.rawValue)), expected [\(expect)]")
    }
    // Each thread's current CPU is re-read every 64 calls: make sure this one is fresh.
    var ran = [ArmMicrokernel](repeating: .ooo, count: pinned.count)
    ran.withUnsafeMutableBufferPointer { ran in
        pinned.run { t in
            for _ in 0..<64 { _ = GEMM.armMicrokernelForThisThread }
            ran[t] = GEMM.armMicrokernelForThisThread
        }
    }
    #if arch(arm64)
    let want = pinned.cpus.prefix(pinned.count).map { table.kernel(cpu: $0) }
    #else
    let want = [ArmMicrokernel](repeating: .ooo, count: pinned.count)
    #endif
    if ran != want { problems.append("pinned threads ran \(ran.map(\.rawValue)), expected \(want.map(\.rawValue))") }
    if !problems.isEmpty { failures += 1 }
    print("\(problems.isEmpty ? "ok  " : "FAIL") microkernel selection: SOCPROF_ARM_KERNEL=\(forcedName.isEmpty ? "(unset)" : forcedName), " +
          "per CPU \(table.perCPU.map(\.rawValue)), threads on CPUs \(pinned.cpus) ran \(ran.map(\.rawValue))" +
          (problems.isEmpty ? "" : ": " + problems.joined(separator: "; ")))
}

@main
struct KernelsCheck {
    static func main() {
        #if arch(arm64)
        let arch = "arm64"
        #elseif arch(x86_64)
        let arch = "x86_64"
        #else
        let arch = "other"
        #endif
        setvbuf(stdout, nil, _IOLBF, 0)  // line by line through a pipe, too
        print("kernels-check on \(arch)\(breakReference ? " (reference deliberately broken)" : "")")
        let pools = [("1 thread", ThreadPool(threads: 1)), ("2 threads", ThreadPool(threads: 2)), ("3 threads", ThreadPool(threads: 3))]
        // K = 1, 2 and 3 and the K blocks' remainders (300 = 256 + 44, 257 = 256 + 1) take every
        // path of the microkernels' k loops; M and N not multiples of the tile, their edge tiles.
        let shapes = [(1, 1, 1), (13, 37, 29), (50, 70, 300), (65, 47, 257), (7, 33, 300), (145, 130, 17),
                      (9, 25, 2), (17, 13, 3), (8, 12, 4)]
        for (m, n, k) in shapes { checkGEMM(m: m, n: n, k: k, pools: pools) }
        checkConv("3x3 pad 1", inC: 3, h: 11, w: 13, outC: 5, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu)
        checkConv("1x1", inC: 17, h: 9, w: 7, outC: 33, k: 1, stride: 1, pad: .none, groups: 1, act: nil)
        checkConv("1x1 strided", inC: 8, h: 7, w: 7, outC: 12, k: 1, stride: 2, pad: .none, groups: 1, act: nil)
        checkConv("5x5 strided grouped", inC: 6, h: 15, w: 15, outC: 10, k: 5, stride: 2, pad: .same(2), groups: 2, act: .relu)
        checkConv("grouped", inC: 12, h: 6, w: 8, outC: 9, k: 3, stride: 1, pad: .same(1), groups: 3, act: .relu)
        checkConv("depthwise", inC: 13, h: 10, w: 9, outC: 13, k: 3, stride: 1, pad: .same(1), groups: 13, act: .relu6)
        checkConv("depthwise strided", inC: 19, h: 12, w: 11, outC: 19, k: 3, stride: 2,
                  pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19, act: .relu6)
        checkConv("stride 3, K over a depth block", inC: 30, h: 17, w: 17, outC: 14, k: 3, stride: 3, pad: .same(1), groups: 1, act: .relu)
        checkConv("wide, rows split", inC: 64, h: 14, w: 14, outC: 96, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu)
        checkNetwork("squeezenet-1.1")
        // Last: a pinned pool also pins the calling thread, for good (sched_setaffinity, passed
        // through by qemu-user to the host's kernel).
        let pinned = ThreadPool(threads: 2, cpus: [0, 1])
        if pinned.unpinnedThreads > 0 { failures += 1 }
        print("\(pinned.unpinnedThreads == 0 ? "ok  " : "FAIL") pool pinned to CPUs 0,1: \(pinned.unpinnedThreads) of 2 thread(s) refused")
        checkGEMM(m: 50, n: 70, k: 300, pools: [("pinned", pinned)], note: ", 2 threads pinned to CPUs 0,1")
        checkSelection(pinned: pinned)
        print(failures == 0 ? "kernels-check: all passed" : "kernels-check: \(failures) check(s) FAILED")
        exit(failures == 0 ? 0 : 1)
    }
}
