import Kernels
import Networks
import Testing

@Suite("Winograd F(4x4, 3x3) against direct convolution")
struct WinogradTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let inC: Int, h: Int, w: Int, outC: Int, pad: Int, act: Activation?
        /// V and M per block, floats (small: several blocks of tile rows).
        var blockFloats: Int = WinogradConvolution.Plan.defaultBlockFloats
        var testDescription: String {
            "\(inC)x\(h)x\(w) -> \(outC) p\(pad) \(act?.rawValue ?? "linear")" + (blockFloats < WinogradConvolution.Plan.defaultBlockFloats ? " blocks of \(blockFloats)" : "")
        }
    }

    static let cases: [Case] = [
        // Planes of one pixel (padding 1), of 3x3 (one output pixel without padding, and 3x3 with),
        // 5x7 (outputs of 3x5 and 5x7: partial tiles both ways), odd channel counts.
        Case(inC: 1, h: 1, w: 1, outC: 1, pad: 1, act: nil),
        Case(inC: 3, h: 3, w: 3, outC: 5, pad: 0, act: .relu),
        Case(inC: 5, h: 3, w: 3, outC: 3, pad: 1, act: .relu6),
        Case(inC: 7, h: 5, w: 7, outC: 9, pad: 0, act: nil),
        Case(inC: 7, h: 5, w: 7, outC: 9, pad: 1, act: .relu),
        // Sizes around multiples of 4 and of the 8-tile vectors (tile rows of 8, 9 and 2 tiles).
        Case(inC: 17, h: 13, w: 33, outC: 11, pad: 1, act: .relu6),
        Case(inC: 6, h: 34, w: 30, outC: 13, pad: 0, act: nil),
        Case(inC: 33, h: 14, w: 14, outC: 31, pad: 1, act: .relu),
        // Tile rows of 3 and 6 tiles (with those above, a row's last 1 to 7 tiles each stored).
        Case(inC: 4, h: 6, w: 11, outC: 5, pad: 1, act: .relu),
        Case(inC: 5, h: 5, w: 22, outC: 6, pad: 1, act: nil),
        // ResNet-50-like: 64 channels on a 28x28 plane.
        Case(inC: 64, h: 28, w: 28, outC: 64, pad: 1, act: .relu),
        // Rows of 4 tiles, whose transforms take two tile rows at a time (`pairsRows`): an odd
        // number of tile rows (the last one alone), a full 16-wide row, and blocks of 3 tile rows
        // (a pair and a single row, then a single row).
        Case(inC: 6, h: 10, w: 13, outC: 7, pad: 1, act: .relu6),
        Case(inC: 5, h: 16, w: 16, outC: 4, pad: 1, act: nil),
        Case(inC: 9, h: 18, w: 15, outC: 10, pad: 0, act: .relu, blockFloats: 36 * 19 * 4 * 3),
        // Several blocks of tile rows (one and three rows a block; the last block shorter).
        Case(inC: 9, h: 21, w: 19, outC: 10, pad: 1, act: .relu, blockFloats: 1),
        Case(inC: 9, h: 21, w: 19, outC: 10, pad: 1, act: nil, blockFloats: 36 * 19 * 5 * 3),
    ]

    /// The error bound: |winograd - direct| <= bound * max |direct| over the output, the direct
    /// sum in Double. Measured (`largestError`, the cases here, 1 and 2 threads, weights, inputs and
    /// biases in [-1, 1]): from 1.0e-7 (one input channel) to 5.3e-6 (17 and 64 input channels);
    /// the bound is about 4 times the largest. A wrong transform coefficient (checked once by
    /// breaking one locally, see the commit) gives errors far above it.
    static let bound: Float = 2e-5

    static func largestError(_ out: [Float], _ expected: [Float]) -> Float {
        let scale = expected.map(abs).max() ?? 0
        let diff = zip(out, expected).map { abs($0 - $1) }.max() ?? 0
        return scale > 0 ? diff / scale : diff
    }

    @Test("edge shapes, padding 0 and 1, bias and each activation, 1 and 2 threads", arguments: cases)
    func againstDirect(c: Case) throws {
        var rng = TestRandom(UInt64(c.inC * 131 + c.h * 17 + c.w + c.pad))
        let conv = Convolution(outputChannels: c.outC, kernel: 3, stride: 1, padding: .same(c.pad))
        let x = TensorShape(c: c.inC, h: c.h, w: c.w)
        var b = GraphBuilder(name: "t", input: x)
        let y = b.conv("c", b.input, conv).shape
        let input = rng.array(x.count), weights = rng.array(c.outC * c.inC * 9), bias = rng.array(c.outC)
        let expected = Reference.conv(conv, input, x, weights, bias, y, c.act)
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let plan = WinogradConvolution.Plan(conv: conv, input: x, output: y, threads: threads, blockFloats: c.blockFloats)
            let workspace = WinogradConvolution.Workspace(floats: plan.workspaceFloats)
            // The default GEMM kernel and the one the plan picks for its tiles (narrower panels
            // where the default's would be mostly padding).
            for kernel in Set([GEMM.kernel.name, plan.gemmKernel().name]).sorted().compactMap(GEMMKernel.named) {
                var out = [Float](repeating: .nan, count: y.count)
                input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                    let transformed = WinogradWeights(weights: w.baseAddress!, outputChannels: c.outC, inputChannels: c.inC, kernel: kernel)
                    WinogradConvolution.run(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y, weights: transformed, bias: bb.baseAddress!,
                                            activation: c.act, pool: pool, workspace: workspace,
                                            gemmWorkspaces: (0..<threads).map { _ in GEMM.Workspace() }, blockFloats: c.blockFloats)
                } } } }
                let error = Self.largestError(out, expected)
                #expect(error <= Self.bound, "\(c.testDescription), \(threads) threads, \(kernel.name): error \(error) of the largest output")
            }
        }
    }

    @Test("the GEMM kernel for the tiles: the default unless over a quarter of its columns would be padding")
    func gemmKernelForTiles() {
        let conv = Convolution(outputChannels: 64, kernel: 3, stride: 1, padding: .same(1))
        let cpu = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x11, features: .avx512)
        for side in [7, 14, 28, 56] {
            let shape = TensorShape(c: 64, h: side, w: side)
            let plan = WinogradConvolution.Plan(conv: conv, input: shape, output: shape, threads: 1)
            let tiles = plan.tilesAcross * plan.tilesDown
            func padding(_ k: GEMMKernel) -> Int { (tiles + k.nr - 1) / k.nr * k.nr - tiles }
            for preferred in GEMMKernel.runnable(on: cpu) {
                let chosen = plan.gemmKernel(preferred: preferred, cpu: cpu)
                #expect(padding(chosen) <= padding(preferred), "\(side)x\(side), \(preferred.name): \(chosen.name)")
                if 4 * padding(preferred) <= (tiles + preferred.nr - 1) / preferred.nr * preferred.nr {
                    #expect(chosen == preferred, "\(side)x\(side), \(preferred.name): \(chosen.name)")
                }
            }
        }
        // Zen 4 (an AVX-512 build): ResNet-50's 14x14 layers (16 tiles) take the 16-column tile, its
        // 56x56 ones (196 tiles) keep the default.
        if let zmm = GEMMKernel.named("zmm8x32"), let ymm = GEMMKernel.named("ymm6x16") {
            let small = TensorShape(c: 256, h: 14, w: 14), big = TensorShape(c: 64, h: 56, w: 56)
            #expect(WinogradConvolution.Plan(conv: conv, input: small, output: small, threads: 2).gemmKernel(preferred: zmm, cpu: cpu) == ymm)
            #expect(WinogradConvolution.Plan(conv: conv, input: big, output: big, threads: 2).gemmKernel(preferred: zmm, cpu: cpu) == zmm)
        }
    }

    @Test("the GEMM kernel for the tiles on full-width AVX-512: a flexible kernel whose rows divide the output channels, the default if it is one")
    func gemmKernelForTilesFullWidth() {
        guard let zmm8 = GEMMKernel.named("zmm8x32"), let zmm12 = GEMMKernel.named("zmm12x32"), let ymm = GEMMKernel.named("ymm6x16") else {
            return // an AVX2 build: no zmm kernel to choose
        }
        let intel = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0xcf, features: .avx512)
        func chosen(channels: Int, side: Int, preferred: GEMMKernel) -> String {
            let conv = Convolution(outputChannels: channels, kernel: 3, stride: 1, padding: .same(1))
            let shape = TensorShape(c: channels, h: side, w: side)
            return WinogradConvolution.Plan(conv: conv, input: shape, output: shape, threads: 2).gemmKernel(preferred: preferred, cpu: intel).name
        }
        // ResNet-50's layers (64, 128, 256 channels; 196, 49 and 16 tiles): zmm8x32, not the
        // default zmm12x32 (which would pack V) nor the half-width ymm6x16 for 16 tiles.
        for (channels, side) in [(64, 56), (128, 28), (256, 14)] {
            #expect(chosen(channels: channels, side: side, preferred: zmm12) == "zmm8x32", "\(channels) channels, \(side)x\(side)")
        }
        // Channels that 12 divides keep the default; a default that divides them stays.
        #expect(chosen(channels: 192, side: 14, preferred: zmm12) == "zmm12x32")
        #expect(chosen(channels: 192, side: 14, preferred: zmm8) == "zmm8x32")
        // Channels neither divides: the padding rule (16 tiles: the 16-column tile).
        #expect(chosen(channels: 100, side: 14, preferred: zmm12) == "ymm6x16")
        #expect(chosen(channels: 100, side: 56, preferred: zmm12) == "zmm12x32")
        // Zen 4 keeps the padding rule: 16 tiles take the 16-column tile even where 8 divides.
        let zen4 = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x11, features: .avx512)
        let conv = Convolution(outputChannels: 256, kernel: 3, stride: 1, padding: .same(1))
        let shape = TensorShape(c: 256, h: 14, w: 14)
        #expect(WinogradConvolution.Plan(conv: conv, input: shape, output: shape, threads: 2).gemmKernel(preferred: zmm8, cpu: zen4) == ymm)
    }

    @Test("LayerKernels.convolution runs Winograd with transformed weights, and the GEMM without")
    func throughLayerKernels() {
        var rng = TestRandom(3)
        let conv = Convolution(outputChannels: 12, kernel: 3, stride: 1, padding: .same(1))
        let x = TensorShape(c: 10, h: 11, w: 9)
        var b = GraphBuilder(name: "t", input: x)
        let y = b.conv("c", b.input, conv).shape
        let input = rng.array(x.count), weights = rng.array(12 * 10 * 9), bias = rng.array(12)
        let expected = Reference.conv(conv, input, x, weights, bias, y, .relu)
        let pool = ThreadPool(threads: 2)
        let ws = (0..<2).map { _ in GEMM.Workspace() }
        let plan = WinogradConvolution.Plan(conv: conv, input: x, output: y, threads: 2)
        for winograd in [false, true] {
            var out = [Float](repeating: .nan, count: y.count)
            input.withUnsafeBufferPointer { i in weights.withUnsafeBufferPointer { w in bias.withUnsafeBufferPointer { bb in out.withUnsafeMutableBufferPointer { o in
                let transformed = winograd ? WinogradWeights(weights: w.baseAddress!, outputChannels: 12, inputChannels: 10) : nil
                LayerKernels.convolution(conv, input: i.baseAddress!, x: x, output: o.baseAddress!, y: y,
                                         weights: .init(weights: w.baseAddress!, bias: bb.baseAddress!, winograd: transformed), activation: .relu,
                                         pool: pool, workspaces: ws, winograd: WinogradConvolution.Workspace(floats: plan.workspaceFloats))
            } } } }
            #expect(Self.largestError(out, expected) <= Self.bound, "winograd \(winograd)")
        }
    }

    @Test("a network run with Winograd gives the GEMM's output within the bound, on 1 and 2 threads")
    func runnerPolicies() throws {
        var b = GraphBuilder(name: "small", input: TensorShape(c: 3, h: 30, w: 30))
        var t = b.conv("c1", b.input, Convolution(outputChannels: 32, kernel: 3, stride: 1, padding: .same(1)), activation: .relu)
        t = b.conv("c2", t, Convolution(outputChannels: 40, kernel: 3, stride: 1, padding: .same(1)), activation: .relu)
        t = b.conv("c3", t, Convolution(outputChannels: 16, kernel: 3, stride: 1, padding: .none), activation: .relu6)
        _ = b.fc("fc", t, outputs: 10)
        let net = b.build()
        for threads in [1, 2] {
            var outputs: [ConvAlgorithm.Policy: [Float]] = [:]
            for policy in [ConvAlgorithm.Policy.gemm, .winograd] {
                let runner = NetworkRunner(network: net, pool: ThreadPool(threads: threads), seed: 5, policy: policy)
                #expect(runner.algorithms[1] == (policy == .winograd ? .winograd : .im2col))
                #expect(runner.algorithms[4] == .matrixVector)
                runner.setDeterministicInput()
                outputs[policy] = Array(runner.run())
            }
            let error = Self.largestError(try #require(outputs[.winograd]), try #require(outputs[.gemm]))
            #expect(error <= Self.bound, "\(threads) threads: error \(error)")
        }
    }
}

@Suite("Convolution algorithm choice")
struct ConvAlgorithmTests {
    @Test func choice() {
        let c3 = Convolution(outputChannels: 64, kernel: 3, stride: 1, padding: .same(1))
        let big = TensorShape(c: 64, h: 56, w: 56), small = TensorShape(c: 64, h: 7, w: 7)
        // auto: Winograd where it measured faster, the GEMM elsewhere; the policies force it.
        #expect(ConvAlgorithm.choose(c3, input: big, output: big, policy: .auto) == .winograd)
        #expect(ConvAlgorithm.choose(c3, input: small, output: small, policy: .auto) == .im2col)
        // 14x14 and 12x12: Winograd; 11x11 or fewer than 16 input channels: the GEMM.
        let mid = TensorShape(c: 64, h: 14, w: 14), twelve = TensorShape(c: 16, h: 12, w: 12)
        #expect(ConvAlgorithm.choose(c3, input: mid, output: mid, policy: .auto) == .winograd)
        #expect(ConvAlgorithm.choose(c3, input: twelve, output: TensorShape(c: 64, h: 12, w: 12), policy: .auto) == .winograd)
        #expect(ConvAlgorithm.choose(c3, input: mid, output: TensorShape(c: 64, h: 11, w: 14), policy: .auto) == .im2col)
        #expect(ConvAlgorithm.choose(c3, input: TensorShape(c: 8, h: 56, w: 56), output: big, policy: .auto) == .im2col)
        #expect(ConvAlgorithm.choose(c3, input: small, output: small, policy: .winograd) == .winograd)
        #expect(ConvAlgorithm.choose(c3, input: big, output: big, policy: .gemm) == .im2col)
        // Winograd computes 3x3 stride-1 ungrouped convolutions only, whatever the policy.
        let strided = Convolution(outputChannels: 64, kernel: 3, stride: 2, padding: .same(1))
        let grouped = Convolution(outputChannels: 64, kernel: 3, stride: 1, padding: .same(1), groups: 2)
        let depthwise = Convolution(outputChannels: 64, kernel: 3, stride: 1, padding: .same(1), groups: 64)
        let five = Convolution(outputChannels: 64, kernel: 5, stride: 1, padding: .same(2))
        let pointwise = Convolution(outputChannels: 64, kernel: 1)
        for policy in ConvAlgorithm.Policy.allCases {
            #expect(ConvAlgorithm.choose(strided, input: big, output: TensorShape(c: 64, h: 28, w: 28), policy: policy) == .im2col)
            #expect(ConvAlgorithm.choose(grouped, input: big, output: big, policy: policy) == .im2col)
            #expect(ConvAlgorithm.choose(depthwise, input: big, output: big, policy: policy) == .depthwise)
            #expect(ConvAlgorithm.choose(five, input: big, output: big, policy: policy) == .im2col)
            #expect(ConvAlgorithm.choose(pointwise, input: big, output: big, policy: policy) == .gemm1x1)
            #expect(ConvAlgorithm.choose(pointwise, input: TensorShape(c: 64, h: 1, w: 1), output: TensorShape(c: 64, h: 1, w: 1), policy: policy) == .matrixVector)
        }
        // A first layer on the image's 3 channels: the direct kernel where it is available, under auto and under winograd (which does not apply to stride 2); the GEMM under
        // gemm. A 3x3 stride-1 one: Winograd under winograd. Five input channels: never direct.
        let first = Convolution(outputChannels: 32, kernel: 3, stride: 2, padding: Padding(top: 0, left: 0, bottom: 1, right: 1))
        let image = TensorShape(c: 3, h: 224, w: 224), firstOut = TensorShape(c: 32, h: 112, w: 112)
        let direct: ConvAlgorithm = DirectConvolution.applies ? .direct : .im2col
        #expect(ConvAlgorithm.choose(first, input: image, output: firstOut, policy: .auto) == direct)
        #expect(ConvAlgorithm.choose(first, input: image, output: firstOut, policy: .winograd) == direct)
        #expect(ConvAlgorithm.choose(first, input: image, output: firstOut, policy: .gemm) == .im2col)
        let flat = TensorShape(c: 32, h: 224, w: 224)
        #expect(ConvAlgorithm.choose(c3, input: image, output: flat, policy: .winograd) == .winograd)
        #expect(ConvAlgorithm.choose(c3, input: image, output: flat, policy: .auto) == direct)
        #expect(ConvAlgorithm.choose(first, input: TensorShape(c: 5, h: 224, w: 224), output: firstOut, policy: .auto) == .im2col)
        #expect(ConvAlgorithm.winograd.rawValue == "winograd-f4x4" && ConvAlgorithm.im2col.rawValue == "gemm-im2col")
    }

    @Test("per layer: ResNet-50's 56x56 and 14x14 3x3 layers run Winograd under auto, its 7x7 ones the GEMM; pooling has none, fully connected layers the matrix-vector kernel")
    func perLayer() throws {
        let net = try #require(NetworkCatalog.network(named: "resnet50"))
        func algorithm(_ name: String, _ policy: ConvAlgorithm.Policy) throws -> ConvAlgorithm? {
            ConvAlgorithm.of(layer: try #require(net.layers.firstIndex { $0.name == name }), in: net, policy: policy)
        }
        let first3x3 = try #require(net.layers.first { l in
            if case .convolution(let c) = l.kind { return c.kernelH == 3 && c.strideH == 1 && l.output.h == 56 } else { return false }
        })
        let last3x3 = try #require(net.layers.last { l in
            if case .convolution(let c) = l.kind { return c.kernelH == 3 && c.strideH == 1 } else { return false }
        })
        #expect(try algorithm(first3x3.name, .auto) == .winograd)
        #expect(try algorithm(first3x3.name, .gemm) == .im2col)
        #expect(try algorithm(last3x3.name, .auto) == .im2col)
        // 14x14 with 256 input channels: Winograd.
        #expect(try algorithm("block3/unit2/bottleneck_v1/conv2/convolution", .auto) == .winograd)
        #expect(try algorithm(last3x3.name, .winograd) == .winograd)
        let poolLayer = try #require(net.layers.first { if case .pooling = $0.kind { return true } else { return false } })
        #expect(try algorithm(poolLayer.name, .auto) == nil)
        let googlenet = try #require(NetworkCatalog.network(named: "googlenet"))
        let fc = try #require(googlenet.layers.firstIndex { if case .fullyConnected = $0.kind { return true } else { return false } })
        #expect(ConvAlgorithm.of(layer: fc, in: googlenet, policy: .auto) == .matrixVector)
    }

    @Test("SOCPROF_CONV_ALGORITHM: auto, gemm, winograd; unset or empty is auto; anything else an error naming the values")
    func override() {
        #expect(ConvAlgorithm.Policy.override(nil) == .success(.auto))
        #expect(ConvAlgorithm.Policy.override("") == .success(.auto))
        #expect(ConvAlgorithm.Policy.override("auto") == .success(.auto))
        #expect(ConvAlgorithm.Policy.override("gemm") == .success(.gemm))
        #expect(ConvAlgorithm.Policy.override("winograd") == .success(.winograd))
        guard case .failure(let error) = ConvAlgorithm.Policy.override("winograd-f2x2") else {
            Issue.record("a bad value was accepted")
            return
        }
        #expect(error.description == "SOCPROF_CONV_ALGORITHM=winograd-f2x2 is not one of auto, gemm, winograd")
    }

    @Test("SOCPROF_DEPTHWISE: auto runs planes on Zen 4 for 3x3 stride-2 layers, 3x3 stride-1 ones at least 12 wide and other stride-1 ones over 64 wide, else lanes; planes on other AVX-512 CPUs; planes and lanes as named")
    func depthwiseKernel() {
        let zen4 = GEMMKernel.CPU(vendor: .amd, family: 0x19, model: 0x11, features: .avx512)
        let intel = GEMMKernel.CPU(vendor: .intel, family: 6, model: 0x8f, features: .avx512)
        let auto = ConvAlgorithm.DepthwiseKernel.auto
        // MobileNet's layers on Zen 4: 112 to 14 wide at stride 1 planes, and the strided ones
        // (3x3); the 7-wide one lanes, and strided filters other than 3x3.
        #expect(auto.planes(stride: 1, filter3x3: true, outputWidth: 112, cpu: zen4))
        #expect(auto.planes(stride: 1, filter3x3: true, outputWidth: 56, cpu: zen4))
        #expect(auto.planes(stride: 1, filter3x3: true, outputWidth: 14, cpu: zen4))
        #expect(auto.planes(stride: 1, filter3x3: true, outputWidth: 12, cpu: zen4))
        #expect(!auto.planes(stride: 1, filter3x3: true, outputWidth: 11, cpu: zen4))
        #expect(!auto.planes(stride: 1, filter3x3: false, outputWidth: 64, cpu: zen4))
        #expect(auto.planes(stride: 1, filter3x3: false, outputWidth: 65, cpu: zen4))
        #expect(auto.planes(stride: 2, filter3x3: true, outputWidth: 56, cpu: zen4))
        #expect(auto.planes(stride: 2, filter3x3: true, outputWidth: 7, cpu: zen4))
        #expect(!auto.planes(stride: 2, filter3x3: false, outputWidth: 56, cpu: zen4))
        #expect(!auto.planes(stride: 3, filter3x3: true, outputWidth: 56, cpu: zen4))
        #expect(!auto.planes(stride: 1, filter3x3: true, outputWidth: 7, cpu: zen4))
        #expect(auto.planes(stride: 2, filter3x3: false, outputWidth: 7, cpu: intel))
        #expect(auto.planes(stride: 1, filter3x3: true, outputWidth: 14, cpu: intel))
        for cpu in [zen4, intel] {
            #expect(ConvAlgorithm.DepthwiseKernel.planes.planes(stride: 2, filter3x3: false, outputWidth: 7, cpu: cpu))
            #expect(!ConvAlgorithm.DepthwiseKernel.lanes.planes(stride: 2, filter3x3: true, outputWidth: 112, cpu: cpu))
        }
        #expect(ConvAlgorithm.DepthwiseKernel.override(nil) == .success(.auto))
        #expect(ConvAlgorithm.DepthwiseKernel.override("lanes") == .success(.lanes))
        guard case .failure(let error) = ConvAlgorithm.DepthwiseKernel.override("rows") else {
            Issue.record("a bad value was accepted")
            return
        }
        #expect(error.description == "SOCPROF_DEPTHWISE=rows is not one of auto, planes, lanes")
    }
}
