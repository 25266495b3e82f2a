import Foundation
import Kernels
import Networks
import Testing

@Suite("Exported weights, input and output (socprof networks NAME --export)", .serialized)
struct NetworkExportTests {
    @Test("the export holds the runner's weights, input and output, and lists every weighted layer at its cost-model shape",
          arguments: ["mobilenet", "alexnet", "squeezenet-1.1"])
    func roundTrip(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        let export = NetworkExport(network: net, pool: ThreadPool(threads: 1), weightSeed: 5, inputSeed: 9)
        let runner = NetworkRunner(network: net, pool: ThreadPool(threads: 1), seed: 5)
        runner.setDeterministicInput(seed: 9)
        let costs = net.costs()
        var weighted = 0
        for (i, layer) in net.layers.enumerated() {
            let x = net.layers[layer.inputs.first ?? 0].output
            let w = export.tensor("weights", of: layer.name), b = export.tensor("bias", of: layer.name)
            switch layer.kind {
            case .convolution(let c):
                weighted += 1
                let w = try #require(w, "\(name) \(layer.name): no weights exported")
                let b = try #require(b, "\(name) \(layer.name): no bias exported")
                #expect(w.shape == [c.outputChannels, x.c / c.groups, c.kernelH, c.kernelW])
                #expect(b.shape == [c.outputChannels])
                #expect(Int64(w.count) + (c.bias ? Int64(b.count) : 0) == costs[i].params, "\(name) \(layer.name): parameters")
                #expect(Array(export.values(of: w)) == Array(runner.weights.weights[i]!), "\(name) \(layer.name): weights")
                #expect(Array(export.values(of: b)) == Array(runner.weights.biases[i]!), "\(name) \(layer.name): bias")
            case .fullyConnected(let outputs):
                weighted += 1
                let w = try #require(w, "\(name) \(layer.name): no weights exported")
                let b = try #require(b, "\(name) \(layer.name): no bias exported")
                #expect(w.shape == [outputs, x.count])
                #expect(b.shape == [outputs])
                #expect(Int64(w.count + b.count) == costs[i].params, "\(name) \(layer.name): parameters")
                #expect(Array(export.values(of: w)) == Array(runner.weights.weights[i]!), "\(name) \(layer.name): weights")
                #expect(Array(export.values(of: b)) == Array(runner.weights.biases[i]!), "\(name) \(layer.name): bias")
            default:
                #expect(w == nil && b == nil, "\(name) \(layer.name): parameters exported for a layer without any")
            }
        }
        #expect(export.index.tensors.filter { $0.role == "weights" }.count == weighted)
        #expect(export.index.tensors.filter { $0.role == "bias" }.count == weighted)

        let input = try #require(export.tensor("input", of: net.layers[0].name))
        #expect(input.shape == [net.input.c, net.input.h, net.input.w])
        #expect(Array(export.values(of: input)) == Array(runner.output(of: 0)))
        let probabilities = Array(runner.run())
        let output = try #require(export.tensor("output", of: net.layers.last!.name))
        #expect(Array(export.values(of: output)) == probabilities, "\(name): the exported output is not a 1-thread run's")
        // The logits are the softmax's input: their softmax is the output.
        let logits = try #require(export.index.tensors.first { $0.role == "logits" })
        let l = Array(export.values(of: logits)).map(Double.init)
        let top = l.max()!
        let e = l.map { exp($0 - top) }, sum = e.reduce(0, +)
        for (p, q) in zip(e.map { $0 / sum }, probabilities) { #expect(abs(p - Double(q)) < 1e-6) }

        // One run of values, in index order, little-endian.
        var offset: Int64 = 0
        for t in export.index.tensors {
            #expect(t.offset == offset && t.count == t.shape.reduce(1, *))
            offset += Int64(t.count) * 4
        }
        #expect(export.dataBytes == offset)
        let bytes = export.withLittleEndianBytes { Array($0) }
        #expect(Int64(bytes.count) == offset)
        let last = export.index.tensors.last!, at = Int(last.offset)
        let firstValue = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        #expect(Float(bitPattern: firstValue) == export.values(of: last).first!)
    }

    @Test("the calibration and accuracy images are CalibrationImages' seeded inputs, bit for bit, after the output; none by default",
          arguments: ["mobilenet", "alexnet"])
    func images(name: String) throws {
        let net = try #require(NetworkCatalog.network(named: name))
        let plain = NetworkExport(network: net, pool: ThreadPool(threads: 1))
        #expect(!plain.index.tensors.contains { $0.role == "calibration" || $0.role == "accuracy" || $0.seed != nil })
        let export = NetworkExport(network: net, pool: ThreadPool(threads: 1), calibrationImages: 3, accuracyImages: 2)
        // What came before is unchanged: the images are appended, the first tensors keep their offsets.
        #expect(Array(export.index.tensors.prefix(plain.index.tensors.count)) == plain.index.tensors)
        #expect(Array(export.values.prefix(plain.values.count)).map(\.bitPattern) == plain.values.map(\.bitPattern))
        let images = Array(export.index.tensors.dropFirst(plain.index.tensors.count))
        #expect(images.map(\.role) == ["calibration", "calibration", "calibration", "accuracy", "accuracy"])
        #expect(images.map(\.seed) == [0, 1, 2].map { CalibrationImages.seed($0) } + [0, 1].map { CalibrationImages.accuracySeed($0) })
        // Each is what a runner's setDeterministicInput writes for its seed: the lead's calibration pass's image.
        let runner = NetworkRunner(network: net, pool: ThreadPool(threads: 1), seed: 1)
        for image in images {
            #expect(image.layer == net.layers[0].name && image.shape == [net.input.c, net.input.h, net.input.w])
            runner.setDeterministicInput(seed: try #require(image.seed))
            #expect(Array(export.values(of: image)).map(\.bitPattern) == Array(runner.output(of: 0)).map(\.bitPattern),
                    "\(name) \(image.role) seed \(image.seed!): not setDeterministicInput's image")
        }
        #expect(Set(images.map { Array(export.values(of: $0)) }).count == images.count, "two images are the same")
        #expect(export.dataBytes == Int64(export.values.count) * 4 && images.last!.offset + Int64(images.last!.count) * 4 == export.dataBytes)
    }
}
