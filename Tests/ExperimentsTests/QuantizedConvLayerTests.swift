@testable import Experiments
import Kernels
import Networks
import Testing

/// `bench conv --precision int8`: the layer it times is the int8 kernel on the layer's own
/// input, with the quantization the issue asks for, byte for byte.
@Suite("int8 bench conv layers against the int8 kernels run directly")
struct QuantizedConvLayerTests {
    /// (network, layer): a 1x1 and a 3x3 whose input is not the layer before it (SqueezeNet's
    /// expands), MobileNet's first depthwise (the int8 depthwise kernel) and a 1x1 after it.
    static let cases: [(String, String)] = [
        ("squeezenet-1.1", "fire2/squeeze1x1"), ("squeezenet-1.1", "fire2/expand3x3"),
        ("mobilenet", "Conv2d_1_depthwise/depthwise"), ("mobilenet", "Conv2d_1_pointwise/Conv2D"),
    ]

    @Test("QuantizedConvLayer, reached as bench conv reaches a layer, writes the bytes Int8LayerKernels.convolution writes given the quantization done by hand",
          arguments: cases)
    func bitExact(network: String, layer: String) throws {
        let net = try #require(NetworkCatalog.network(named: network))
        let i = try #require(net.layers.firstIndex { $0.name == layer })
        let l = net.layers[i]
        guard case .convolution(let conv) = l.kind else { Issue.record("\(layer) is not a convolution"); return }
        let x = net.layers[l.inputs[0]].output, y = l.output
        let pool = ThreadPool(threads: 2)

        // The bench's path: the walk to the layer, then the int8 layer made from the runner, run.
        let benchRunner = NetworkRunner(network: net, pool: pool)
        benchRunner.setDeterministicInput()
        var bench: QuantizedConvLayer?
        ComputedInputs.forEach([i], runner: benchRunner) { j in
            bench = QuantizedConvLayer(runner: benchRunner, layer: j, workspaces: (0..<2).map { _ in Int8GEMM.Workspace() })
        }
        let q = try #require(bench)
        q.run()
        q.run() // the timed part runs again and again: the same bytes

        // By hand: every layer up to this one in fp32, min/max of its input and output.
        let runner = NetworkRunner(network: net, pool: pool)
        runner.setDeterministicInput()
        for j in 1...i { runner.runLayer(j) }
        let input = Array(runner.output(of: l.inputs[0])), output = Array(runner.output(of: i))
        let inQ = QuantParams.covering(min: input.min()!, max: input.max()!)
        let outQ = QuantParams.covering(min: output.min()!, max: output.max()!)
        #expect(q.weights.input == inQ && q.weights.output == outQ)
        let w = Int8ConvWeights(quantizing: conv, inputChannels: x.c, weights: runner.weights.weights[i]!.baseAddress!,
                                bias: runner.weights.biases[i].map { UnsafePointer($0.baseAddress!) }, input: inQ, output: outQ)
        let quantized = input.map { inQ.quantize($0) }
        // Counted, not compared as arrays: a failed == on 200,000 bytes takes minutes to describe.
        #expect(q.input.count == quantized.count && zip(q.input, quantized).filter { $0 != $1 }.count == 0)
        var expected = [UInt8](repeating: 0, count: y.count)
        quantized.withUnsafeBufferPointer { src in
            expected.withUnsafeMutableBufferPointer { dst in
                Int8LayerKernels.convolution(w, input: src.baseAddress!, x: x, output: dst.baseAddress!, y: y, activation: l.activation,
                                             pool: pool, workspaces: (0..<2).map { _ in Int8GEMM.Workspace() })
            }
        }
        #expect(q.output.count == expected.count)
        #expect(zip(q.output, expected).filter { $0 != $1 }.count == 0, "output bytes that differ")
        // Not a constant tensor: the comparison means something.
        #expect(Set(expected).count > 16, "\(Set(expected).count) distinct output values")
    }
}
