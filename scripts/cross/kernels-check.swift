// Correctness check of the Kernels module on a foreign CPU, for `scripts/cross-check aarch64 --run`
// (built for aarch64 and run under qemu-user): GEMM, convolution, the blocked (NCHW8c) kernels,
// Winograd and one whole network (and one on the blocked layout) against
// plain reference loops, written out here again (the same definitions as Tests/KernelsTests).
// Plain Swift without Foundation or Testing, since neither is available for the cross target.
// One line per check; exits 1 if any fails. scripts/cross-check runs it once per aarch64 microkernel
// (SOCPROF_ARM_KERNEL=a53|a55|ooo, the per-core choice, and a big.LITTLE fixture tree), and the
// last check says that the kernel each pinned thread ran is the one expected.
// KERNELS_CHECK_ONLY=int8 runs the int8 checks instead (GEMM, convolutions, depthwise, fully
// connected, pooling, add against integer reference loops, exact), with the int8 kernel
// SOCPROF_INT8_KERNEL picks; scripts/cross-check runs them once per aarch64 int8 kernel.
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

/// A convolution layer, its shapes and seeded input, weights and bias (the tests' data).
func convData(inC: Int, h: Int, w: Int, outC: Int, k: Int, stride: Int, pad: Padding, groups: Int)
    -> (Convolution, TensorShape, TensorShape, [Float], [Float], [Float]) {
    var rng = Random(UInt64(inC * 7919 + outC * 31 + k))
    let conv = Convolution(outputChannels: outC, kernel: k, stride: stride, padding: pad, groups: groups)
    let x = TensorShape(c: inC, h: h, w: w)
    var builder = GraphBuilder(name: "t", input: x)
    let y = builder.conv("c", builder.input, conv).shape
    return (conv, x, y, rng.array(x.count), rng.array(outC * (inC / groups) * k * k), rng.array(outC))
}

func checkConv(_ label: String, inC: Int, h: Int, w: Int, outC: Int, k: Int, stride: Int, pad: Padding, groups: Int, act: Activation?) {
    let (conv, x, y, input, weights, bias) = convData(inC: inC, h: h, w: w, outC: outC, k: k, stride: stride, pad: pad, groups: groups)
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

// MARK: Blocked layout

/// The blocked kernels (`BlockedConvolution`, NCHW8c) against the reference: blocked in and out,
/// and NCHW in and out, on 1 and 3 threads; the input and output reordered by `BlockedLayout`.
func checkBlocked(_ label: String, inC: Int, h: Int, w: Int, outC: Int, k: Int, stride: Int, pad: Padding, groups: Int, act: Activation?) {
    let (conv, x, y, input, weights, bias) = convData(inC: inC, h: h, w: w, outC: outC, k: k, stride: stride, pad: pad, groups: groups)
    let expected = referenceConv(conv, input, x, weights, bias, y, act)
    let bw = weights.withUnsafeBufferPointer { BlockedConvWeights(conv, inputChannels: inC, weights: $0.baseAddress!, bias: bias) }
    var results: [(String, [Float], [Float])] = []
    for threads in [1, 3] {
        let pool = ThreadPool(threads: threads)
        for blocked in bw.depthwise ? [true] : [true, false] {
            var source = [Float](repeating: .nan, count: BlockedLayout.count(x)), out = [Float](repeating: .nan, count: BlockedLayout.count(y))
            var back = [Float](repeating: .nan, count: y.count)
            input.withUnsafeBufferPointer { i in source.withUnsafeMutableBufferPointer { s in out.withUnsafeMutableBufferPointer { o in back.withUnsafeMutableBufferPointer { b in
                if blocked { BlockedLayout.block(i.baseAddress!, x, into: s.baseAddress!, pool: pool) }
                BlockedConvolution.run(bw, input: blocked ? UnsafePointer(s.baseAddress!) : i.baseAddress!, x: x, inputBlocked: blocked,
                                       output: blocked ? o.baseAddress! : b.baseAddress!, y: y, outputBlocked: blocked, activation: act, pool: pool)
                if blocked { BlockedLayout.unblock(UnsafePointer(o.baseAddress!), y, into: b.baseAddress!, pool: pool) }
            } } } }
            results.append(("\(threads) thread(s) \(blocked ? "blocked" : "NCHW")", back, expected))
        }
    }
    check("blocked conv \(label): \(inC)x\(h)x\(w) -> \(outC), k\(k) s\(stride) g\(groups) \(act?.rawValue ?? "linear")", results)
}

/// A network on the blocked layout (`SOCPROF_LAYOUT=blocked`) against the NCHW runner: the
/// output, and every layer's values.
func checkBlockedNetwork(_ name: String) {
    guard let net = NetworkCatalog.network(named: name) else { failures += 1; print("FAIL network \(name): not in the catalog"); return }
    let pool = ThreadPool(threads: 2)
    let nchw = NetworkRunner(network: net, pool: pool, seed: 3, layout: .nchw, fuseResidualAdds: false)
    let blocked = NetworkRunner(network: net, pool: pool, seed: 3, layout: .blocked, fuseResidualAdds: false)
    var expected: [[Float]] = Array(repeating: [], count: net.layers.count)
    nchw.setDeterministicInput(seed: 11)
    nchw.run(afterLayer: { i in expected[i] = nchw.values(of: i) })
    var layers: [(String, [Float], [Float])] = []
    blocked.setDeterministicInput(seed: 11)
    blocked.run(afterLayer: { i in layers.append((net.layers[i].name, blocked.values(of: i), expected[i])) })
    check("network \(name) on the blocked layout (\(blocked.layout.blocked.filter { $0 }.count) tensors blocked), against NCHW", layers,
          of: "layers", tolerance: 1e-3)
}

// MARK: Winograd

/// Winograd F(4x4, 3x3) against the direct reference, on 1 to 3 threads, with the blocks of tile
/// rows the default gives and with one tile row a block.
func checkWinograd(inC: Int, h: Int, w: Int, outC: Int, pad: Int, act: Activation?, pools: [(name: String, pool: ThreadPool)]) {
    var rng = Random(UInt64(inC * 131 + h * 17 + w + pad))
    let conv = Convolution(outputChannels: outC, kernel: 3, stride: 1, padding: .same(pad))
    let x = TensorShape(c: inC, h: h, w: w)
    var builder = GraphBuilder(name: "t", input: x)
    let y = builder.conv("c", builder.input, conv).shape
    let input = rng.array(x.count), weights = rng.array(outC * inC * 9), bias = rng.array(outC)
    let expected = referenceConv(conv, input, x, weights, bias, y, act)
    var results: [(String, [Float], [Float])] = []
    for (name, pool) in pools {
        for blockFloats in [WinogradConvolution.Plan.defaultBlockFloats, 1] {
            let plan = WinogradConvolution.Plan(conv: conv, input: x, output: y, threads: pool.count, blockFloats: blockFloats)
            var out = [Float](repeating: .nan, count: y.count)
            input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in out.withUnsafeMutableBufferPointer { o in
                let transformed = WinogradWeights(weights: wp.baseAddress!, outputChannels: outC, inputChannels: inC, kernel: plan.gemmKernel())
                WinogradConvolution.run(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, weights: transformed, bias: bp.baseAddress!,
                                        activation: act, pool: pool, workspace: WinogradConvolution.Workspace(floats: plan.workspaceFloats),
                                        gemmWorkspaces: (0..<pool.count).map { _ in GEMM.Workspace() }, blockFloats: blockFloats)
            } } } }
            results.append(("\(name)\(blockFloats == 1 ? ", a tile row a block" : "")", out, expected))
        }
    }
    check("winograd f4x4: \(inC)x\(h)x\(w) -> \(outC), pad \(pad) \(act?.rawValue ?? "linear")", results)
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

/// Residual adds done by the convolution before them (`ResidualFusion`, the GEMM epilogue's
/// residual): a small graph whose adds follow 1x1 and 3x3 GEMM convolutions, run with and
/// without fusion on 1 and 2 threads; every add's output must be the same floats.
func checkResidualFusion() {
    var g = GraphBuilder(name: "residual", input: TensorShape(c: 16, h: 13, w: 11))
    let a = g.conv("a", g.input, Convolution(outputChannels: 20, kernel: 1), activation: .relu)
    let b = g.conv("b", a, Convolution(outputChannels: 20, kernel: 1))
    let s = g.add("s", a, b, activation: .relu)
    let c = g.conv("c", s, Convolution(outputChannels: 20, kernel: 3, padding: .same(1)))
    let t = g.add("t", s, c, activation: .relu6)
    _ = g.softmax("out", g.conv("logits", t, Convolution(outputChannels: 10, kernel: 1)))
    let net = g.build()
    var results: [(variant: String, output: [Float], expected: [Float])] = []
    var fused = 0
    for threads in [1, 2] {
        var adds: [[Float]] = []
        for fuse in [true, false] {
            let runner = NetworkRunner(network: net, pool: ThreadPool(threads: threads), seed: 5, policy: .gemm, fuseResidualAdds: fuse)
            if fuse { fused = runner.fusion.count }
            runner.setDeterministicInput(seed: 2)
            var out: [Float] = []
            runner.run(afterLayer: { i in if case .add = net.layers[i].kind { out += Array(runner.output(of: i)) } })
            adds.append(out)
        }
        results.append(("\(threads) thread(s)", adds[0], adds[1]))
    }
    let same = results.allSatisfy { $0.output.map(\.bitPattern) == $0.expected.map(\.bitPattern) }
    if !same || fused != 2 { failures += 1 }
    print("\(same && fused == 2 ? "ok  " : "FAIL") residual adds fused into \(fused) of 2 convolutions: the same floats as separate adds on 1 and 2 threads: \(same)")
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

// MARK: Int8

/// One exact check: each variant's bytes or sums equal to the expected ones.
func checkExact<T: Equatable>(_ name: String, _ results: [(variant: String, output: [T], expected: [T])]) {
    var bad: [String] = []
    var wrong = 0
    for (variant, x, expected) in results {
        let w = x.count == expected.count ? zip(x, expected).filter { $0 != $1 }.count : max(x.count, expected.count)
        if w > 0 { bad.append(variant); wrong += w }
    }
    if !bad.isEmpty { failures += 1 }
    print("\(bad.isEmpty ? "ok  " : "FAIL") \(name): \(results.count) variants, exact" +
          (bad.isEmpty ? "" : "; \(wrong) values differ; failing: " + bad.prefix(6).joined(separator: ", ") + (bad.count > 6 ? " and \(bad.count - 6) more" : "")))
}

/// SOCPROF_CHECK_BREAK=1: every int8 reference sum is off by one (and each convolution's
/// expected byte by one bit).
let intSkew: Int64 = breakReference ? 1 : 0

struct ByteRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 &+ 1 }
    mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in next() % 8 == 0 ? 127 : next() % 8 == 1 ? -127 : Int8(int(-127...127)) } }
    mutating func ints(_ n: Int, _ r: ClosedRange<Int>) -> [Int32] { (0..<n).map { _ in Int32(int(r)) } }
    mutating func floats(_ n: Int, _ r: ClosedRange<Float>) -> [Float] { (0..<n).map { _ in r.lowerBound + (r.upperBound - r.lowerBound) * Float(next() % 1001) / 1000 } }
}

func byteValue(_ q: UInt8, signed: Bool) -> Int32 { signed ? Int32(Int8(bitPattern: q)) : Int32(q) }

func referenceRequantize(_ sum: Int32, _ multiplier: Float, zp: Int32, range: ClosedRange<Int32>) -> UInt8 {
    let f = Float(sum) * multiplier
    let q = Int32(min(max(f, Float(range.lowerBound - zp)), Float(range.upperBound - zp)).rounded(.toNearestOrEven)) + zp
    return UInt8(truncatingIfNeeded: q)
}

func referenceInt8Conv(_ c: Convolution, _ input: [UInt8], _ x: TensorShape, _ p: QuantParams, _ w: [Int8], _ bias: [Int32], _ y: TensorShape) -> [Int32] {
    var out = [Int32](repeating: 0, count: y.count)
    let inG = x.c / c.groups, outG = y.c / c.groups
    for oc in 0..<y.c {
        let g = oc / outG
        for oy in 0..<y.h { for ox in 0..<y.w {
            var s = Int64(bias[oc]) + intSkew
            for ic in 0..<inG { for ky in 0..<c.kernelH { for kx in 0..<c.kernelW {
                let iy = oy * c.strideH - c.padding.top + ky, ix = ox * c.strideW - c.padding.left + kx
                guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
                s += Int64(byteValue(input[((g * inG + ic) * x.h + iy) * x.w + ix], signed: p.signed) - p.zeroPoint) *
                    Int64(w[((oc * inG + ic) * c.kernelH + ky) * c.kernelW + kx])
            } } }
            out[(oc * y.h + oy) * y.w + ox] = Int32(s)
        } }
    }
    return out
}

func checkInt8GEMM(m: Int, n: Int, k: Int, pools: [(name: String, pool: ThreadPool)]) {
    var rng = ByteRandom(UInt64(m * 1_000_003 + n * 1009 + k))
    let kernel = Int8Kernel.current
    let lda = k + 3, ldb = n + 5
    let a = rng.weights(m * lda), bias = rng.ints(m, -100_000...100_000)
    let packed = a.withUnsafeBufferPointer { PackedInt8A(m: m, k: k, weights: $0.baseAddress!, lda: lda, kernel: kernel) }
    for (signed, zb) in [(false, Int32(131)), (true, Int32(-77))] {
        let b = rng.bytes(k * ldb)
        var expected = [Int32](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s = Int64(bias[i]) + intSkew
            for p in 0..<k { s += Int64(a[i * lda + p]) * Int64(byteValue(b[p * ldb + j], signed: signed) - zb) }
            expected[i * n + j] = Int32(s)
        } }
        var results: [(String, [Int32], [Int32])] = []
        for (name, pool) in pools {
            let ws = (0..<pool.count).map { _ in Int8GEMM.Workspace() }
            var c = [Int32](repeating: 0, count: m * n)
            b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { biasp in c.withUnsafeMutableBufferPointer { cp in
                Int8GEMM.multiply(packed: packed, n: n, b: .dense(DenseInt8B(bp.baseAddress!, ldb: ldb, zeroPoint: zb, signed: signed)),
                                  output: .int32(cp.baseAddress!, ldc: n, bias: biasp.baseAddress!), pool: pool, workspaces: ws)
            } } }
            results.append((name, c, expected))
        }
        checkExact("int8 gemm \(kernel.rawValue) \(m)x\(n)x\(k) int32, \(signed ? "int8" : "uint8") B, zero point \(zb)", results)
    }
}

func checkInt8Conv(_ label: String, inC: Int, h: Int, w: Int, conv: Convolution, input p: QuantParams, act: Activation?) {
    var rng = ByteRandom(UInt64(inC * 7919 + conv.outputChannels * 31 + conv.kernelH + h))
    let kernel = Int8Kernel.current
    let x = TensorShape(c: inC, h: h, w: w)
    var builder = GraphBuilder(name: "t", input: x)
    let y = builder.conv("c", builder.input, conv).shape
    let k = inC / conv.groups * conv.kernelH * conv.kernelW
    let input = rng.bytes(x.count), weights = rng.weights(y.c * k), bias = rng.ints(y.c, -3000...3000), scales = rng.floats(y.c, 0.002...0.02)
    let out = QuantParams(scale: Float(k).squareRoot() * 64 * 100 / 200 * p.scale * 0.01, zeroPoint: 20)
    let sums = referenceInt8Conv(conv, input, x, p, weights, bias, y)
    let range = out.clampRange(act)
    // Broken (SOCPROF_CHECK_BREAK=1): every expected byte off by one bit, since an int32 sum off by
    // one rarely changes a requantized byte.
    let expected = (0..<y.count).map {
        referenceRequantize(sums[$0], Float(Double(p.scale) * Double(scales[$0 / (y.h * y.w)]) / Double(out.scale)), zp: out.zeroPoint, range: range)
            ^ (breakReference ? 1 : 0)
    }
    let wts = weights.withUnsafeBufferPointer { wp in scales.withUnsafeBufferPointer { sp in bias.withUnsafeBufferPointer { bp in
        Int8ConvWeights(conv, inputChannels: inC, weights: wp.baseAddress!, weightScales: sp.baseAddress!, bias: bp.baseAddress!, input: p, output: out, kernel: kernel)
    } } }
    var results: [(String, [UInt8], [UInt8])] = []
    for threads in [1, 2] {
        let pool = ThreadPool(threads: threads)
        let ws = (0..<threads).map { _ in Int8GEMM.Workspace() }
        var got = [UInt8](repeating: 0xEE, count: y.count)
        input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
            if conv.kernelH == 1 && h == 1 && w == 1 {
                Int8LayerKernels.fullyConnected(wts, input: i.baseAddress!, output: o.baseAddress!, activation: act, pool: pool)
            } else {
                Int8LayerKernels.convolution(wts, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, activation: act, pool: pool, workspaces: ws)
            }
        } }
        results.append(("\(threads) thread(s)", got, expected))
    }
    checkExact("int8 conv \(label) (\(kernel.rawValue)): \(inC)x\(h)x\(w) -> \(conv.outputChannels), k\(conv.kernelH) s\(conv.strideH) g\(conv.groups) " +
               "zx \(p.zeroPoint)\(p.signed ? " int8" : "") \(act?.rawValue ?? "linear")", results)
}

/// Average pooling with padding and an add of two tensors with different scales (no GEMM; they
/// run the same Swift code on every CPU, checked here for 32/64-bit and ARM differences).
func checkInt8PoolAdd() {
    var rng = ByteRandom(17)
    let x = TensorShape(c: 3, h: 9, w: 8), p = Pooling(kind: .average, kernel: 3, stride: 2, padding: .same(1))
    let q = QuantParams(scale: 0.01, zeroPoint: 37)
    var builder = GraphBuilder(name: "t", input: x)
    let y = builder.pool("p", builder.input, p).shape
    let input = rng.bytes(x.count)
    var expected = [UInt8](repeating: 0, count: y.count)
    for c in 0..<x.c { for oy in 0..<y.h { for ox in 0..<y.w {
        var s: Int64 = 0, n: Int64 = 0
        for ky in 0..<3 { for kx in 0..<3 {
            let iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx
            guard iy >= 0, iy < x.h, ix >= 0, ix < x.w else { continue }
            s += Int64(input[(c * x.h + iy) * x.w + ix]) - 37; n += 1
        } }
        let mean = (Double(s) / Double(n)).rounded(.toNearestOrAwayFromZero) + Double(intSkew)
        expected[(c * y.h + oy) * y.w + ox] = UInt8(min(max(37 + Int64(mean), 0), 255))
    } } }
    var got = [UInt8](repeating: 0, count: y.count)
    input.withUnsafeBufferPointer { i in got.withUnsafeMutableBufferPointer { o in
        Int8LayerKernels.pooling(p, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, params: q, pool: ThreadPool(threads: 2))
    } }
    checkExact("int8 average pooling 3x3 s2 pad 1", [("2 threads", got, expected)])

    let a = rng.bytes(333), b = rng.bytes(333)
    let pa = QuantParams(scale: 0.03, zeroPoint: 128), pb = QuantParams(scale: 0.02, zeroPoint: -3, signed: true), po = QuantParams(scale: 0.025, zeroPoint: 120)
    let sum = (0..<333).map { i -> UInt8 in
        let f = Float(byteValue(a[i], signed: false) - 128) * (pa.scale / po.scale) + Float(byteValue(b[i], signed: true) + 3) * (pb.scale / po.scale)
        return UInt8(truncatingIfNeeded: Int32(min(max(f, -120), 135).rounded(.toNearestOrEven)) + 120 + Int32(intSkew))
    }
    var added = [UInt8](repeating: 0, count: 333)
    a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in added.withUnsafeMutableBufferPointer { o in
        Int8LayerKernels.add(ap.baseAddress!, pa, bp.baseAddress!, pb, output: o.baseAddress!, po, count: 333, activation: nil, pool: ThreadPool(threads: 2))
    } } }
    checkExact("int8 add, different scales", [("2 threads", added, sum)])
}

/// SqueezeNet 1.1 in int8 (`Network.quantized`, calibrated on 2 images): the same bytes on 1 and
/// 2 threads in every int8 layer, and logits close to fp32's (cosine >= 0.999, within 5 % of the
/// largest logit; on x86-64 they are 0.9999 and 1.9 %).
func checkInt8Network() {
    guard let fp32 = NetworkCatalog.network(named: "squeezenet-1.1") else { failures += 1; print("FAIL int8 network: no squeezenet-1.1"); return }
    let q = fp32.quantized(.int8)
    let one = NetworkRunner(network: q, pool: ThreadPool(threads: 1), calibrationImages: 2)
    let two = NetworkRunner(network: q, pool: ThreadPool(threads: 2), quantization: one.quantization)
    var bytes: [[UInt8]] = Array(repeating: [], count: q.layers.count)
    one.setDeterministicInput(seed: 9)
    one.run(afterLayer: { i in if q.layers[i].precision == .int8 { bytes[i] = Array(one.int8Output(of: i)) } })
    var differing: [String] = []
    two.setDeterministicInput(seed: 9)
    two.run(afterLayer: { i in if q.layers[i].precision == .int8 && Array(two.int8Output(of: i)) != bytes[i] { differing.append(q.layers[i].name) } })
    let a = QuantizationAccuracy.measure(reference: NetworkRunner(network: fp32, pool: ThreadPool(threads: 2)), quantized: two, images: 3)
    let ok = differing.isEmpty && a.min_cosine >= 0.999 && a.max_relative_logit_error < 0.05
    if !ok { failures += 1 }
    print("\(ok ? "ok  " : "FAIL") int8 squeezenet-1.1 (\(Int8Kernel.current.rawValue)): 1 and 2 threads \(differing.isEmpty ? "identical" : "differ in \(differing.joined(separator: ", "))"); " +
          "logits against fp32 on 3 images: cosine >= \((a.min_cosine * 1e5).rounded(.down) / 1e5), max error \((a.max_relative_logit_error * 1e4).rounded(.up) / 1e4) of the largest")
}

/// The int8 kernel the run chose against KERNELS_CHECK_INT8_EXPECT, and the CPU's features.
func checkInt8Selection() {
    let expect = getenv("KERNELS_CHECK_INT8_EXPECT").map { String(cString: $0) } ?? ""
    let current = Int8Kernel.current
    let ok = (expect.isEmpty || current.rawValue == expect) && current.isSupported
    if !ok { failures += 1 }
    print("\(ok ? "ok  " : "FAIL") int8 kernel selection: SOCPROF_INT8_KERNEL=\(getenv("SOCPROF_INT8_KERNEL").map { String(cString: $0) } ?? "(unset)"), " +
          "runs \(current.rawValue)\(expect.isEmpty ? "" : ", expected \(expect)"); this CPU runs \(Int8Kernel.supported.map(\.rawValue).joined(separator: ", "))")
}

func int8Checks(pools: [(name: String, pool: ThreadPool)]) {
    checkInt8Selection()
    // K = 1...5, M and N off every tile, K over several groups and past a 16-k group.
    for (m, n, k) in [(1, 1, 1), (3, 5, 2), (7, 13, 3), (9, 50, 4), (13, 97, 5), (17, 49, 33), (33, 7, 129), (64, 300, 27)] {
        checkInt8GEMM(m: m, n: n, k: k, pools: pools)
    }
    let u128 = QuantParams(scale: 0.03, zeroPoint: 128), u37 = QuantParams(scale: 0.01, zeroPoint: 37)
    let s3 = QuantParams(scale: 0.02, zeroPoint: -3, signed: true), u0 = QuantParams(scale: 0.02, zeroPoint: 0)
    checkInt8Conv("1x1", inC: 17, h: 9, w: 7, conv: Convolution(outputChannels: 33, kernel: 1), input: u37, act: nil)
    checkInt8Conv("1x1 K=5, 1-wide", inC: 5, h: 9, w: 1, conv: Convolution(outputChannels: 13, kernel: 1), input: s3, act: .relu)
    checkInt8Conv("3x3 pad 1", inC: 3, h: 11, w: 13, conv: Convolution(outputChannels: 5, kernel: 3, stride: 1, padding: .same(1)), input: u128, act: .relu6)
    checkInt8Conv("3x3 stride 2 asymmetric pad", inC: 5, h: 9, w: 10,
                  conv: Convolution(outputChannels: 7, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1)), input: s3, act: nil)
    checkInt8Conv("5x5 stride 2 grouped", inC: 6, h: 15, w: 15, conv: Convolution(outputChannels: 10, kernel: 5, stride: 2, padding: .same(2), groups: 2),
                  input: u0, act: .relu)
    checkInt8Conv("3x3 wide, rows split", inC: 32, h: 14, w: 14, conv: Convolution(outputChannels: 50, kernel: 3, stride: 1, padding: .same(1)),
                  input: u128, act: .relu)
    checkInt8Conv("depthwise 3x3", inC: 13, h: 10, w: 9, conv: Convolution(outputChannels: 13, kernel: 3, stride: 1, padding: .same(1), groups: 13),
                  input: u128, act: .relu6)
    checkInt8Conv("depthwise 3x3 stride 2", inC: 19, h: 12, w: 11,
                  conv: Convolution(outputChannels: 19, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19),
                  input: s3, act: .relu6)
    checkInt8Conv("depthwise 5x5, 37 wide", inC: 6, h: 9, w: 37, conv: Convolution(outputChannels: 6, kernel: 5, stride: 1, padding: .same(2), groups: 6),
                  input: u37, act: .relu)
    checkInt8Conv("depthwise 3x3 stride 2 pad 1, 40 wide", inC: 5, h: 8, w: 40,
                  conv: Convolution(outputChannels: 5, kernel: 3, stride: 2, padding: .same(1), groups: 5), input: s3, act: .relu6)
    checkInt8Conv("depthwise 3x3 stride 3", inC: 4, h: 10, w: 20, conv: Convolution(outputChannels: 4, kernel: 3, stride: 3, padding: .same(1), groups: 4),
                  input: u37, act: nil)
    checkInt8Conv("fully connected", inC: 300, h: 1, w: 1, conv: Convolution(outputChannels: 37, kernel: 1), input: u37, act: nil)
    checkInt8PoolAdd()
    checkInt8Network()
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
        if getenv("KERNELS_CHECK_ONLY").map({ String(cString: $0) }) == "int8" {
            int8Checks(pools: pools)
            print(failures == 0 ? "kernels-check: all passed" : "kernels-check: \(failures) check(s) FAILED")
            exit(failures == 0 ? 0 : 1)
        }
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
        checkBlocked("3x3 from 3 channels, stride 2", inC: 3, h: 12, w: 12, outC: 32, k: 3, stride: 2,
                     pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 1, act: .relu6)
        checkBlocked("1x1, two passes of input blocks", inC: 600, h: 3, w: 8, outC: 20, k: 1, stride: 1, pad: .none, groups: 1, act: nil)
        checkBlocked("3x3, odd blocks", inC: 70, h: 6, w: 6, outC: 17, k: 3, stride: 1, pad: .same(1), groups: 1, act: .relu)
        checkBlocked("5x5 stride 2, padding", inC: 6, h: 15, w: 15, outC: 10, k: 5, stride: 2, pad: .same(2), groups: 1, act: .relu)
        checkBlocked("depthwise", inC: 24, h: 13, w: 29, outC: 24, k: 3, stride: 1, pad: .same(1), groups: 24, act: .relu6)
        checkBlocked("depthwise strided", inC: 19, h: 12, w: 11, outC: 19, k: 3, stride: 2,
                     pad: Padding(top: 0, left: 0, bottom: 1, right: 1), groups: 19, act: .relu6)
        checkBlockedNetwork("squeezenet-1.1")
        checkWinograd(inC: 7, h: 5, w: 7, outC: 9, pad: 0, act: nil, pools: pools)
        checkWinograd(inC: 17, h: 13, w: 33, outC: 11, pad: 1, act: .relu6, pools: pools)
        checkWinograd(inC: 33, h: 14, w: 14, outC: 31, pad: 1, act: .relu, pools: pools)
        // squeezenet-1.1's fire2-5 run Winograd (auto), fire6-9 the GEMM.
        checkNetwork("squeezenet-1.1")
        checkResidualFusion()
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
