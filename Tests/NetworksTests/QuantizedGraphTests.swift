import Networks
import Testing

@Suite("int8 and int8-weights forms of the networks")
struct QuantizedGraphTests {
    static func net(_ name: String) -> Network { NetworkCatalog.network(named: name)! }

    @Test("int8: conversions exactly where the stored type changes; first and last weighted layers, LRN and softmax in fp32", arguments: NetworkCatalog.names)
    func int8Form(name: String) {
        let fp32 = Self.net(name), q = fp32.quantized(.int8)
        #expect(q.precision == .int8 && q.name == fp32.name)
        let weighted = q.layers.indices.filter { q.layers[$0].kind.hasWeights }
        #expect(q.layers[weighted.first!].precision == .fp32 && q.layers[weighted.last!].precision == .fp32)
        for i in weighted.dropFirst().dropLast() { #expect(q.layers[i].precision == .int8, "\(q.layers[i].name)") }
        for (i, l) in q.layers.enumerated() {
            switch l.kind {
            case .quantize:
                #expect(l.precision == .int8 && q.layers[l.inputs[0]].precision == .fp32 && l.name == q.layers[l.inputs[0]].name + "/quantize")
            case .dequantize:
                #expect(l.precision == .fp32 && q.layers[l.inputs[0]].precision == .int8 && l.name == q.layers[l.inputs[0]].name + "/dequantize")
            case .lrn, .softmax, .input:
                #expect(l.precision == .fp32, "\(l.name)")
            default:
                // Every other layer reads tensors stored as it computes.
                for j in l.inputs { #expect(q.layers[j].precision == l.precision, "\(name) \(l.name) reads \(q.layers[j].name)") }
            }
            // Each tensor is converted at most once each way.
            if l.kind.isConversion {
                let twins = q.layers.filter { $0.kind == l.kind && $0.inputs == l.inputs }
                #expect(twins.count == 1, "\(l.name)")
                #expect(l.inputs[0] < i)
            }
        }
        // The fp32 form is the network as built.
        let back = q.fp32Form
        #expect(back.layers == fp32.layers)
        let index = q.fp32Indices
        #expect(index.compactMap { $0 } == Array(fp32.layers.indices))
        for (i, k) in index.enumerated() { if let k { #expect(q.layers[i].name == fp32.layers[k].name) } }
    }

    @Test("MobileNet int8: a quantize after the first convolution, a dequantize before the logits, nothing else converted")
    func mobilenetConversions() {
        let q = Self.net("mobilenet").quantized(.int8)
        #expect(q.layers.filter(\.kind.isConversion).map(\.name) == ["Conv2d_0/quantize", "Logits/AvgPool_1a/dequantize"])
        #expect(q.layers.count == Self.net("mobilenet").layers.count + 2)
        #expect(q.layers.filter { $0.precision == .int8 }.count == 26 + 1 + 1) // 13 x (depthwise, pointwise), the pool, the quantize
    }

    @Test("AlexNet int8: LRN stays fp32 between a dequantize and a quantize")
    func alexnetLRN() {
        let q = Self.net("alexnet").quantized(.int8)
        let names = q.layers.map(\.name)
        let lrn2 = names.firstIndex(of: "norm2")!
        #expect(q.layers[lrn2].precision == .fp32)
        #expect(q.layers[q.layers[lrn2].inputs[0]].kind == .dequantize)
        #expect(names.contains("conv2/dequantize") && names.contains("pool2/quantize"))
    }

    @Test("int8-weights: the graph unchanged, weighted layers marked", arguments: NetworkCatalog.names)
    func int8WeightsForm(name: String) {
        let fp32 = Self.net(name), q = fp32.quantized(.int8Weights)
        #expect(q.layers.count == fp32.layers.count && q.fp32Form.layers == fp32.layers)
        for (a, b) in zip(q.layers, fp32.layers) { #expect(a.precision == (b.kind.hasWeights ? .int8Weights : .fp32)) }
    }

    @Test("cost model: int8 weights 1 byte (4 per bias and scale), activations 1 byte, conversions 2 ops an element")
    func costs() throws {
        let fp32 = Self.net("mobilenet"), q = fp32.quantized(.int8)
        let fc = fp32.costs(), qc = q.costs()
        let index = q.fp32Indices
        // A pointwise convolution, int8 in and out: 1024 x 1024 weights and 1024 biases (ACL's have one).
        let i = try #require(q.layers.firstIndex { $0.name == "Conv2d_13_pointwise/Conv2D" })
        let k = try #require(index[i])
        #expect(qc[i].macs == fc[k].macs && qc[i].ops == fc[k].ops && qc[i].params == fc[k].params)
        #expect(qc[i].paramBytes == 1024 * 1024 + 1024 * 4 + 1024 * 4)
        #expect(fc[k].paramBytes == (1024 * 1024 + 1024) * 4)
        #expect(qc[i].inputBytes == fc[k].inputBytes / 4 && qc[i].outputBytes == fc[k].outputBytes / 4)
        #expect(qc[i].minBytes == qc[i].inputBytes + qc[i].outputBytes + qc[i].paramBytes)
        #expect(qc[i].oiTheoretical > 3 * fc[k].oiTheoretical)
        // The quantize after Conv2d_0: fp32 in, int8 out, 2 ops an element.
        let qi = try #require(q.layers.firstIndex { $0.kind == .quantize })
        let n = Int64(q.layers[qi].output.count)
        #expect(qc[qi].ops == 2 * n && qc[qi].inputBytes == 4 * n && qc[qi].outputBytes == n && qc[qi].params == 0)
        // The whole network: the fp32 logits layer (1024 x 1001 + bias) stays 4 bytes a weight.
        let logits = Int64(1024 * 1001 + 1001) * 4
        #expect(q.totalParamBytes < fp32.totalParamBytes / 2 && q.totalParamBytes > logits)
        let inner = fp32.totalParamBytes - logits - fc[1].paramBytes
        let innerInt8 = q.totalParamBytes - logits - fc[1].paramBytes
        #expect(Double(innerInt8) / Double(inner) < 0.27 && Double(innerInt8) / Double(inner) > 0.25, "int8 layers: about a quarter")
    }

    @Test("cost model: an int8-weights layer expands each weight (one op each) and reads 1 byte a weight")
    func int8WeightsCosts() throws {
        let fp32 = Self.net("squeezenet-1.1"), q = fp32.quantized(.int8Weights)
        let i = try #require(fp32.layers.firstIndex { $0.kind.hasWeights })
        let a = fp32.cost(ofLayer: i), b = q.cost(ofLayer: i)
        guard case .convolution(let c) = fp32.layers[i].kind else { Issue.record("not a convolution"); return }
        let weights = a.params - Int64(c.outputChannels)
        #expect(b.ops == a.ops + weights)
        #expect(b.paramBytes == weights + Int64(c.outputChannels) * 8)
        #expect(b.inputBytes == a.inputBytes && b.outputBytes == a.outputBytes)
    }
}

@Suite("int8 with the ends quantized")
struct QuantizedEndsTests {
    @Test("quantizeEnds: every weighted layer int8, the image quantized and the logits dequantized; weights about a quarter", arguments: NetworkCatalog.names)
    func ends(name: String) {
        let fp32 = NetworkCatalog.network(named: name)!, q = fp32.quantized(.int8, quantizeEnds: true)
        for l in q.layers where l.kind.hasWeights { #expect(l.precision == .int8, "\(l.name)") }
        #expect(q.layers[1].kind == .quantize && q.layers[1].inputs == [0])
        let last = q.layers.count - 1
        #expect(q.layers[last].kind == .softmax && q.layers[q.layers[last].inputs[0]].kind == .dequantize)
        #expect(q.fp32Form.layers == fp32.layers)
        let ratio = Double(q.totalParamBytes) / Double(fp32.totalParamBytes)
        #expect(ratio > 0.25 && ratio < 0.3, "\(name): \(ratio)")
    }
}
