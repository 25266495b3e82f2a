extension Network {
    /// GoogLeNet (Inception v1, the BVLC Caffe model without the auxiliary classifiers) as ARM
    /// Compute Library's `examples/graph_googlenet.cpp` builds it: a 3x224x224 input, max pools
    /// with ceil rounding (Caffe's), cross-map LRN (size 5, alpha 1e-4, beta 0.75, kappa 1) after
    /// pool1 and conv2, nine inception modules, a 7x7/1 average pool, one fully connected layer,
    /// softmax. Each ReLU is fused into the convolution before it.
    public static func googlenet() -> Network {
        var g = GraphBuilder(name: "googlenet", input: TensorShape(c: 3, h: 224, w: 224))
        let lrn = LRN(size: 5, alpha: 0.0001, beta: 0.75, k: 1)
        let pool = Pooling(kind: .max, kernel: 3, stride: 2, rounding: .ceil)

        var x = g.conv("conv1/7x7_s2", g.input, Convolution(outputChannels: 64, kernel: 7, stride: 2, padding: .same(3)), activation: .relu)
        x = g.pool("pool1/3x3_s2", x, pool)
        x = g.lrn("pool1/norm1", x, lrn)
        x = g.conv("conv2/3x3_reduce", x, Convolution(outputChannels: 64, kernel: 1), activation: .relu)
        x = g.conv("conv2/3x3", x, Convolution(outputChannels: 192, kernel: 3, padding: .same(1)), activation: .relu)
        x = g.lrn("conv2/norm2", x, lrn)
        x = g.pool("pool2/3x3_s2", x, pool)
        x = inception(&g, "inception_3a", x, 64, (96, 128), (16, 32), 32)
        x = inception(&g, "inception_3b", x, 128, (128, 192), (32, 96), 64)
        x = g.pool("pool3/3x3_s2", x, pool)
        x = inception(&g, "inception_4a", x, 192, (96, 208), (16, 48), 64)
        x = inception(&g, "inception_4b", x, 160, (112, 224), (24, 64), 64)
        x = inception(&g, "inception_4c", x, 128, (128, 256), (24, 64), 64)
        x = inception(&g, "inception_4d", x, 112, (144, 288), (32, 64), 64)
        x = inception(&g, "inception_4e", x, 256, (160, 320), (32, 128), 128)
        x = g.pool("pool4/3x3_s2", x, pool)
        x = inception(&g, "inception_5a", x, 256, (160, 320), (32, 128), 128)
        x = inception(&g, "inception_5b", x, 384, (192, 384), (48, 128), 128)
        x = g.pool("pool5/7x7_s1", x, Pooling(kind: .average, kernel: 7, stride: 1, rounding: .ceil))
        x = g.fc("loss3/classifier", x, outputs: 1000)
        _ = g.softmax("prob", x)
        return g.build()
    }

    /// One inception module: 1x1 | 1x1 -> 3x3 | 1x1 -> 5x5 | 3x3/1 max pool -> 1x1, concatenated
    /// in that order (ACL's `get_inception_node`).
    private static func inception(_ g: inout GraphBuilder, _ name: String, _ x: GraphBuilder.Tensor, _ a: Int,
                                  _ b: (reduce: Int, out: Int), _ c: (reduce: Int, out: Int), _ d: Int) -> GraphBuilder.Tensor {
        let ia = g.conv("\(name)/1x1", x, Convolution(outputChannels: a, kernel: 1), activation: .relu)
        var ib = g.conv("\(name)/3x3_reduce", x, Convolution(outputChannels: b.reduce, kernel: 1), activation: .relu)
        ib = g.conv("\(name)/3x3", ib, Convolution(outputChannels: b.out, kernel: 3, padding: .same(1)), activation: .relu)
        var ic = g.conv("\(name)/5x5_reduce", x, Convolution(outputChannels: c.reduce, kernel: 1), activation: .relu)
        ic = g.conv("\(name)/5x5", ic, Convolution(outputChannels: c.out, kernel: 5, padding: .same(2)), activation: .relu)
        var id = g.pool("\(name)/pool", x, Pooling(kind: .max, kernel: 3, stride: 1, padding: .same(1), rounding: .ceil))
        id = g.conv("\(name)/pool_proj", id, Convolution(outputChannels: d, kernel: 1), activation: .relu)
        return g.concat("\(name)/concat", [ia, ib, ic, id])
    }
}
