extension Network {
    /// AlexNet as ARM Compute Library's `examples/graph_alexnet.cpp` builds it (the BVLC Caffe
    /// model): a 3x227x227 input, conv2/conv4/conv5 split into 2 groups, cross-map LRN after
    /// conv1 and conv2 (size 5, alpha 1e-4, beta 0.75, kappa 1: ACL's defaults), max pools
    /// 3x3/2 with floor rounding, three fully connected layers, softmax. Each ReLU is fused into
    /// the layer before it.
    public static func alexnet() -> Network {
        var g = GraphBuilder(name: "alexnet", input: TensorShape(c: 3, h: 227, w: 227))
        let lrn = LRN(size: 5, alpha: 0.0001, beta: 0.75, k: 1)
        let pool = Pooling(kind: .max, kernel: 3, stride: 2)

        var x = g.conv("conv1", g.input, Convolution(outputChannels: 96, kernel: 11, stride: 4), activation: .relu)
        x = g.lrn("norm1", x, lrn)
        x = g.pool("pool1", x, pool)
        x = g.conv("conv2", x, Convolution(outputChannels: 256, kernel: 5, padding: .same(2), groups: 2), activation: .relu)
        x = g.lrn("norm2", x, lrn)
        x = g.pool("pool2", x, pool)
        x = g.conv("conv3", x, Convolution(outputChannels: 384, kernel: 3, padding: .same(1)), activation: .relu)
        x = g.conv("conv4", x, Convolution(outputChannels: 384, kernel: 3, padding: .same(1), groups: 2), activation: .relu)
        x = g.conv("conv5", x, Convolution(outputChannels: 256, kernel: 3, padding: .same(1), groups: 2), activation: .relu)
        x = g.pool("pool5", x, pool)
        x = g.fc("fc6", x, outputs: 4096, activation: .relu)
        x = g.fc("fc7", x, outputs: 4096, activation: .relu)
        x = g.fc("fc8", x, outputs: 1000)
        _ = g.softmax("prob", x)
        return g.build()
    }
}
