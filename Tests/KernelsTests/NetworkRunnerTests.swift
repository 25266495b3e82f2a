import Kernels
import Networks
import Testing

@Suite("Networks run end to end", .serialized)
struct NetworkRunnerTests {
    @Test("same output for the same seed on 1 and 2 threads; activations neither explode nor vanish", arguments: NetworkCatalog.names)
    func deterministicAndBounded(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        var outputs: [[Float]] = []
        for threads in [1, 2] {
            let runner = NetworkRunner(network: net, pool: ThreadPool(threads: threads), seed: 3)
            runner.setDeterministicInput(seed: 11)
            var rms: [(String, Double)] = []
            runner.run(afterLayer: { i in
                let out = runner.output(of: i)
                var s = 0.0
                var finite = true
                for v in out { s += Double(v) * Double(v); finite = finite && v.isFinite }
                #expect(finite, "\(name) \(net.layers[i].name): not finite")
                rms.append((net.layers[i].name, (s / Double(out.count)).squareRoot()))
            })
            for (layer, r) in rms where layer != net.layers.last!.name {
                #expect(r > 1e-3 && r < 1e3, "\(name) \(layer): RMS \(r)")
            }
            outputs.append(Array(runner.output(of: net.layers.count - 1)))
        }
        #expect(outputs[0] == outputs[1], "\(name): 1 and 2 threads differ")
        let probabilities = outputs[0]
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        #expect(probabilities.count == net.output.count)
    }

    @Test("a runner gives the same output image after image (the input is never overwritten)", arguments: ["squeezenet-1.1", "resnet50"])
    func repeatedRunsAgree(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        let runner = NetworkRunner(network: net, pool: ThreadPool(threads: 2))
        runner.setDeterministicInput()
        let input = Array(runner.output(of: 0))
        let first = Array(runner.run())
        let second = Array(runner.run())
        #expect(first == second)
        #expect(Array(runner.output(of: 0)) == input)
        // The arena is aligned for the plan's staggered slots; on 2 threads the slots rest.
        for layer in net.layers.indices where net.layers[layer].precision != .int8 {
            let offset = UInt(bitPattern: runner.output(of: layer).baseAddress) - UInt(bitPattern: runner.output(of: 0).baseAddress)
            #expect(Int(offset) == runner.plan.offsets[layer] - runner.plan.offsets[0])
        }
        #expect(UInt(bitPattern: runner.output(of: 0).baseAddress) % UInt(ActivationPlan.arenaAlignment) == UInt(runner.plan.offsets[0]))
        let rested = ActivationPlan(network: net, fusion: runner.fusion, layout: runner.layout, rest: ActivationPlan.threadedRest)
        #expect(runner.plan.offsets == rested.offsets)
    }

    @Test func poolsAreFreedAndJoinTheirThreads() {
        weak var weakPool: ThreadPool?
        do {
            let pool = ThreadPool(threads: 3)
            weakPool = pool
            pool.run { _ in }
        }
        #expect(weakPool == nil)
    }

    @Test("the activation plan never overlaps two live tensors, nor a tensor within its rest", arguments: NetworkCatalog.names, [Precision.fp32, .int8])
    func planIsSafe(name: String, precision: Precision) throws {
        let net = try #require(NetworkCatalog.network(named: name)).quantized(precision)
        // Four staggered phases of whole 64-byte lines fit in 1 KiB.
        #expect(ActivationPlan.slotStagger % 64 == 0 && ActivationPlan.slotStagger > 0 && 4 * ActivationPlan.slotStagger <= 1024)
        // NCHW, and blocked (tensors padded to whole blocks of 8 channels).
        for layout in [LayoutPlan(network: net, layout: .nchw), LayoutPlan(network: net, layout: .blocked)] {
        for fusion in [nil, ResidualFusion(network: net, algorithms: layout.algorithms)] {
        for rest in [0, ActivationPlan.threadedRest, 2] {
            let plan = ActivationPlan(network: net, fusion: fusion, layout: layout, rest: rest)
            // A fused add's output is written by its convolution: alive from there.
            let written = net.layers.indices.map { fusion?.doneBy[$0] ?? $0 }
            var lastUse = net.layers.indices.map { $0 }
            for (i, l) in net.layers.enumerated() { for j in l.inputs { lastUse[j] = max(lastUse[j], i) } }
            lastUse[net.layers.count - 1] = net.layers.count
            func range(_ i: Int) -> Range<Int> { plan.offsets[i]..<(plan.offsets[i] + layout.storedCount(i, in: net) * Int(net.layers[i].outputElementBytes)) }
            for i in net.layers.indices {
                let a = range(i)
                #expect(a.upperBound <= plan.bytes && plan.offsets[i] % 64 == 0)
                if let j = fusion?.doneBy[i] { #expect(plan.offsets[i] == plan.offsets[j], "\(name): a fused add not in its convolution's slot") }
                // Every tensor alive while layer i's output is written (written before, read at or
                // after), or read within `rest` layers before it.
                for j in net.layers.indices where j != i && written[j] < written[i] && lastUse[j] >= written[i] - rest {
                    guard fusion?.doneBy[i] != j else { continue } // the add's own convolution
                    #expect(!a.overlaps(range(j)), "\(name): \(net.layers[i].name) overwrites \(net.layers[j].name)")
                }
            }
            #expect(plan.bytes < plan.unplannedBytes, "reuse saves memory")
            // Slot k starts slotStagger x (k mod 4) past a 1 KiB boundary: the slots, in order,
            // start at phases 0, 256, 512, 768, 0, ... within 1 KiB.
            let starts = Set(plan.offsets).sorted()
            #expect(starts.enumerated().allSatisfy { k, o in o % 1024 == k % 4 * ActivationPlan.slotStagger },
                    "\(name): slots start at \(starts.map { $0 % 1024 }) within 1 KiB")
        }
        }
        }
    }

    @Test("residual adds are fused where a GEMM convolution without activation feeds only them, after the other input")
    func residualFusionRule() throws {
        var g = GraphBuilder(name: "adds", input: TensorShape(c: 8, h: 6, w: 6))
        let a = g.conv("a", g.input, Convolution(outputChannels: 8, kernel: 1), activation: .relu)
        let b = g.conv("b", a, Convolution(outputChannels: 8, kernel: 1))
        let fused = g.add("fused", a, b, activation: .relu)                                   // b: yes
        let c = g.conv("c", fused, Convolution(outputChannels: 8, kernel: 1), activation: .relu)
        let withActivation = g.add("with-activation", fused, c)                             // c has a ReLU
        let d = g.conv("d", withActivation, Convolution(outputChannels: 8, kernel: 1))
        let readTwice = g.add("read-twice", withActivation, d)                              // d is read again below
        let e = g.conv("e", readTwice, Convolution(outputChannels: 8, kernel: 3, padding: .same(1)))
        let earlier = g.conv("f", d, Convolution(outputChannels: 8, kernel: 1))
        let laterIsNotAConv = g.add("later-input-not-a-conv", e, g.pool("p", earlier, Pooling(kind: .max, kernel: 1, stride: 1)))
        _ = g.softmax("out", g.conv("logits", laterIsNotAConv, Convolution(outputChannels: 8, kernel: 1)))
        let net = g.build()
        let gemm = ResidualFusion(network: net, algorithms: net.layers.indices.map { ConvAlgorithm.of(layer: $0, in: net, policy: .gemm) })
        #expect(gemm.doneBy[fused.index] == b.index && gemm.add[b.index] == fused.index && gemm.residual[b.index] == a.index)
        for add in [withActivation, readTwice, laterIsNotAConv] { #expect(gemm.doneBy[add.index] == nil, "\(net.layers[add.index].name)") }
        #expect(gemm.count == 1)
        // ResNet-50: every add but the three whose shortcut is a max pool run after the branch.
        let resnet = try #require(NetworkCatalog.network(named: "resnet50"))
        let algorithms = resnet.layers.indices.map { ConvAlgorithm.of(layer: $0, in: resnet) }
        #expect(ResidualFusion(network: resnet, algorithms: algorithms).count == 13)
        let int8 = resnet.quantized(.int8)
        #expect(ResidualFusion(network: int8, algorithms: int8.layers.indices.map { ConvAlgorithm.of(layer: $0, in: int8) }).count == 0)
    }

    @Test("fused residual adds give the same floats as the separate add layers, at 1 and 2 threads")
    func fusedAddsChangeNoFloat() throws {
        let net = try #require(NetworkCatalog.network(named: "resnet50"))
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let fused = NetworkRunner(network: net, pool: pool, seed: 3), separate = NetworkRunner(network: net, pool: pool, seed: 3, fuseResidualAdds: false)
            #expect(fused.fusion.count == 13 && separate.fusion.count == 0)
            #expect(fused.activationBytes <= separate.activationBytes)
            var outputs: [[UInt32]] = []
            for runner in [fused, separate] {
                runner.setDeterministicInput(seed: 11)
                // The adds' outputs, as later layers read them.
                var adds: [[UInt32]] = []
                runner.run(afterLayer: { i in
                    if case .add = net.layers[i].kind { adds.append(runner.output(of: i).map(\.bitPattern)) }
                })
                outputs.append(adds.flatMap { $0 } + runner.output(of: net.layers.count - 1).map(\.bitPattern))
            }
            // (Counted, not compared with ==: a failed == on arrays this long has the test
            // library compute their difference, for hours.)
            #expect(outputs[0].count == outputs[1].count)
            let changed = zip(outputs[0], outputs[1]).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
            #expect(changed == 0, "threads=\(threads): fusion changed \(changed) floats")
        }
    }

    @Test func weightsAreSeeded() throws {
        let net = try #require(NetworkCatalog.network(named: "squeezenet-1.1"))
        let a = NetworkWeights(network: net, seed: 5), b = NetworkWeights(network: net, seed: 5), c = NetworkWeights(network: net, seed: 6)
        let i = try #require(net.layers.firstIndex { if case .convolution = $0.kind { return true } else { return false } })
        #expect(Array(a.weights[i]!) == Array(b.weights[i]!))
        #expect(Array(a.weights[i]!) != Array(c.weights[i]!))
        #expect(a.bytes == net.costs().reduce(0) { $0 + $1.paramBytes })
    }
}
