import Experiments
import Foundation
import Kernels
import Networks
import Testing
import TestSupport

@Suite("co-execution")
struct CoExecutionTests {
    /// Every split of `layers - 1` layers into k consecutive non-empty stages, in every unit order:
    /// the least bottleneck, by brute force.
    static func bruteForce(_ times: [[Double]], layers: Int) -> Double {
        let k = times.count
        var best = Double.infinity
        func cuts(_ from: Int, _ left: Int) -> [[Int]] { // stage starts after the first
            if left == 0 { return [[]] }
            guard from <= layers - 1 else { return [] }
            return (from...(layers - 1)).flatMap { c in cuts(c + 1, left - 1).map { [c] + $0 } }
        }
        func orders(_ a: [Int]) -> [[Int]] {
            a.count <= 1 ? [a] : a.indices.flatMap { i -> [[Int]] in var r = a; let x = r.remove(at: i); return orders(r).map { [x] + $0 } }
        }
        for order in orders(Array(0..<k)) {
            for c in cuts(2, k - 1) {
                let starts = [1] + c, ends = c.map { $0 - 1 } + [layers - 1]
                let worst = zip(order, zip(starts, ends)).map { u, r in (r.0...r.1).reduce(0) { $0 + times[u][$1] } }.max()!
                best = min(best, worst)
            }
        }
        return best
    }

    @Test("the pipeline split's bottleneck is the least over every split and order", arguments: [2, 3])
    func splitIsOptimal(units: Int) {
        var random = Mutator(seed: 9)
        func next() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        for trial in 0..<20 {
            let layers = 4 + trial % 7
            // Unit u is 1 + u times slower than unit 0, with noise per layer.
            let base = (0..<layers).map { l in l == 0 ? 0 : 0.1 + next() }
            let times = (0..<units).map { u in base.map { $0 * Double(1 + u) * (0.8 + 0.4 * next()) } }
            let split = PipelineSplit.best(times: times, layers: layers)
            #expect(abs(split.bottleneck - Self.bruteForce(times, layers: layers)) < 1e-12)
            // The stages cover layers 1..<layers once, in order, each on a different unit.
            #expect(split.stages.first?.range.lowerBound == 1 && split.stages.last?.range.upperBound == layers - 1)
            for (a, b) in zip(split.stages, split.stages.dropFirst()) { #expect(a.range.upperBound + 1 == b.range.lowerBound) }
            #expect(Set(split.stages.map(\.unit)).count == units)
            let worst = split.stages.map { s in s.range.reduce(0) { $0 + times[s.unit][$1] } }.max()!
            #expect(abs(worst - split.bottleneck) < 1e-12)
        }
    }

    @Test("the tensors crossing a cut include a residual block's shortcut")
    func liveTensors() throws {
        var b = GraphBuilder(name: "residual", input: TensorShape(c: 4, h: 8, w: 8))
        let stem = b.conv("stem", b.input, Convolution(outputChannels: 8, kernel: 1), activation: .relu)      // 1
        let a = b.conv("a", stem, Convolution(outputChannels: 8, kernel: 3, padding: .same(1)), activation: .relu) // 2
        let c = b.conv("c", a, Convolution(outputChannels: 8, kernel: 3, padding: .same(1)))               // 3
        let sum = b.add("sum", c, stem, activation: .relu)                                                  // 4
        _ = b.softmax("prob", b.fc("fc", sum, outputs: 10))                                                 // 5, 6
        let net = b.build()
        #expect(PipelineSplit.liveTensors(network: net, before: 3) == [1, 2]) // the shortcut (stem) and a
        #expect(PipelineSplit.liveTensors(network: net, before: 4) == [1, 3])
        #expect(PipelineSplit.liveTensors(network: net, before: 5) == [4])
    }

    @Test("the reference inputs differ, so equal outputs mean something")
    func distinctInputs() throws {
        let net = try #require(NetworkCatalog.network(named: "squeezenet-1.1"))
        let pool = ThreadPool(threads: 1)
        let runner = NetworkRunner(network: net, pool: pool)
        let inputs = InputImages(runner: runner, count: 3)
        var hashes: [UInt64] = []
        for k in 0..<3 {
            inputs.load(k, into: runner)
            hashes.append(outputHash(runner.run()))
        }
        #expect(Set(hashes).count == 3)
        inputs.load(1, into: runner)
        #expect(outputHash(runner.run()) == hashes[1])
    }
}
