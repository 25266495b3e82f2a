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

    @Test("the activation plan never overlaps two live tensors", arguments: NetworkCatalog.names, [Precision.fp32, .int8])
    func planIsSafe(name: String, precision: Precision) throws {
        let net = try #require(NetworkCatalog.network(named: name)).quantized(precision)
        let plan = ActivationPlan(network: net)
        var lastUse = net.layers.indices.map { $0 }
        for (i, l) in net.layers.enumerated() { for j in l.inputs { lastUse[j] = max(lastUse[j], i) } }
        lastUse[net.layers.count - 1] = net.layers.count
        for i in net.layers.indices {
            let a = plan.offsets[i]..<(plan.offsets[i] + net.layers[i].output.count * Int(net.layers[i].outputElementBytes))
            #expect(a.upperBound <= plan.bytes && plan.offsets[i] % 64 == 0)
            // Every tensor alive while layer i writes: written before, read at or after i.
            for j in 0..<i where lastUse[j] >= i {
                let b = plan.offsets[j]..<(plan.offsets[j] + net.layers[j].output.count * Int(net.layers[j].outputElementBytes))
                #expect(!a.overlaps(b), "\(name): \(net.layers[i].name) overwrites \(net.layers[j].name)")
            }
        }
        #expect(plan.bytes < plan.unplannedBytes, "reuse saves memory")
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
