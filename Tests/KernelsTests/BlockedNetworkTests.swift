import Kernels
import Networks
import Testing

/// Networks run on the channel-blocked layout (`SOCPROF_LAYOUT=blocked`): the plan, and the
/// values against the NCHW runner's.
@Suite("Networks on the blocked layout", .serialized)
struct BlockedNetworkTests {
    @Test("the plan: image and output NCHW, followers on their inputs' layout, readers of blocked tensors able to read them", arguments: NetworkCatalog.names)
    func plan(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        let plan = LayoutPlan(network: net, layout: .blocked)
        let nchw = LayoutPlan(network: net, layout: .nchw)
        #expect(!nchw.blocked.contains(true))
        #expect(!plan.blocked[0] && !plan.blocked[net.layers.count - 1])
        // AlexNet's convolutions feed LRNs or grouped convolutions (NCHW readers): its
        // convolutions run the blocked kernel from NCHW to NCHW, and no tensor is blocked.
        #expect(plan.blocked.contains(true) == (name != "alexnet"), "\(name): blocked tensors \(plan.blocked.filter { $0 }.count)")
        for (i, l) in net.layers.enumerated() {
            let algorithm = plan.algorithms[i]
            switch l.kind {
            case .pooling, .add:
                #expect(l.inputs.allSatisfy { plan.blocked[$0] == plan.blocked[i] }, "\(name) \(l.name): a follower off its inputs' layout")
            case .convolution:
                if algorithm == .blockedDepthwise { #expect(plan.blocked[l.inputs[0]] && plan.blocked[i]) }
                if algorithm == .winograd || algorithm == .depthwise || algorithm == .im2col {
                    #expect(!plan.blocked[l.inputs[0]] && !plan.blocked[i], "\(name) \(l.name): \(algorithm!) on a blocked tensor")
                }
            case .lrn, .softmax, .fullyConnected:
                for t in l.inputs where plan.blocked[t] {
                    #expect(net.layers[t].output.h * net.layers[t].output.w == 1, "\(name) \(l.name) reads a blocked plane")
                }
            default:
                break
            }
        }
        // Quantized networks stay NCHW.
        #expect(!LayoutPlan(network: net.quantized(.int8), layout: .blocked).blocked.contains(true))
    }

    @Test("MobileNet's plan: every convolution but the logits on the blocked kernels, every tensor from the first to the pool blocked")
    func mobilenetPlan() throws {
        let net = try #require(NetworkCatalog.network(named: "mobilenet"))
        let plan = LayoutPlan(network: net, layout: .blocked)
        for (i, l) in net.layers.enumerated() {
            guard case .convolution = l.kind else { continue }
            if l.output.h * l.output.w > 1 {
                #expect(plan.algorithms[i] == .blocked || plan.algorithms[i] == .blockedDepthwise, "\(l.name): \(String(describing: plan.algorithms[i]))")
                #expect(plan.blocked[i], "\(l.name)")
            } else {
                #expect(plan.algorithms[i] == .matrixVector)
            }
        }
    }

    @Test("every layer's values as the NCHW runner's, at 1 and 3 threads; the output with fused adds too", arguments: NetworkCatalog.names)
    func valuesAsNCHW(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        let pool = ThreadPool(threads: 2)
        let reference = NetworkRunner(network: net, pool: pool, seed: 5, layout: .nchw, fuseResidualAdds: false)
        reference.setDeterministicInput(seed: 9)
        var expected: [[Float]] = Array(repeating: [], count: net.layers.count)
        reference.run(afterLayer: { i in expected[i] = reference.values(of: i) })
        for threads in [1, 3] {
            let runner = NetworkRunner(network: net, pool: ThreadPool(threads: threads), seed: 5, layout: .blocked, fuseResidualAdds: false)
            runner.setDeterministicInput(seed: 9)
            var worst = (0.0 as Float, "")
            runner.run(afterLayer: { i in
                let got = runner.values(of: i)
                #expect(got.count == expected[i].count)
                // Relative to the layer's largest value: sums in another order.
                let scale = expected[i].map(abs).max() ?? 1
                for (a, b) in zip(got, expected[i]) where abs(a - b) > worst.0 * (1 + scale) {
                    worst = (abs(a - b) / (1 + scale), net.layers[i].name)
                }
            })
            #expect(worst.0 < 1e-4, "\(name), \(threads) threads: \(worst.1) differs by \(worst.0) of its scale")
        }
        let fused = NetworkRunner(network: net, pool: pool, seed: 5, layout: .blocked)
        fused.setDeterministicInput(seed: 9)
        let out = Array(fused.run())
        #expect(close(out, expected[net.layers.count - 1], tolerance: 1e-4), "\(name): output with fused adds")
    }

    @Test("calibration on a blocked runner sees the values, not the padding channels")
    func calibration() throws {
        let net = try #require(NetworkCatalog.network(named: "squeezenet-1.1"))
        let pool = ThreadPool(threads: 2)
        let nchw = QuantizationCalibration.ranges(runner: NetworkRunner(network: net, pool: pool, layout: .nchw, fuseResidualAdds: false), images: 2)
        let blocked = QuantizationCalibration.ranges(runner: NetworkRunner(network: net, pool: pool, layout: .blocked, fuseResidualAdds: false), images: 2)
        #expect(close(blocked.min, nchw.min, tolerance: 1e-4) && close(blocked.max, nchw.max, tolerance: 1e-4))
    }
}
