/// The shape of one image's activations: channels x height x width (NCHW with N = 1).
public struct TensorShape: Hashable, Sendable, Codable, CustomStringConvertible {
    public var c: Int
    public var h: Int
    public var w: Int

    public init(c: Int, h: Int, w: Int) {
        self.c = c
        self.h = h
        self.w = w
    }

    /// Number of elements.
    public var count: Int { c * h * w }
    /// Bytes at fp32.
    public var bytes: Int64 { Int64(count) * 4 }

    public var description: String { "\(c)x\(h)x\(w)" }
}

/// An activation fused into the layer that produces a tensor.
public enum Activation: String, Hashable, Sendable, Codable {
    case relu
    /// min(max(x, 0), 6), as MobileNet uses.
    case relu6
}

/// How output sizes of windows are rounded, as ARM Compute Library's `DimensionRoundingType`.
public enum Rounding: String, Hashable, Sendable, Codable {
    /// floor((in + pads - k) / stride) + 1 (ACL's default).
    case floor
    /// ceil(...) + 1, as Caffe's pooling (GoogLeNet, SqueezeNet).
    case ceil
}

/// Padding: top, left, bottom, right (elements).
public struct Padding: Hashable, Sendable, Codable {
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        self.top = top
        self.left = left
        self.bottom = bottom
        self.right = right
    }

    /// The same padding on every side.
    public static func same(_ p: Int) -> Padding { Padding(top: p, left: p, bottom: p, right: p) }
    public static let none = Padding.same(0)
}

/// A convolution (general, 1x1, depthwise when groups == input channels == output channels,
/// grouped otherwise). Batch norm is folded into it when the network builds its weights.
public struct Convolution: Hashable, Sendable, Codable {
    public var outputChannels: Int
    public var kernelH: Int
    public var kernelW: Int
    public var strideH: Int
    public var strideW: Int
    public var padding: Padding
    public var groups: Int
    public var bias: Bool
    /// Whether a batch normalisation followed it in the original graph (folded: scale and shift
    /// are merged into the weights and bias).
    public var batchNormFolded: Bool

    public init(outputChannels: Int, kernel: Int, stride: Int = 1, padding: Padding = .none, groups: Int = 1,
                bias: Bool = true, batchNormFolded: Bool = false) {
        self.outputChannels = outputChannels
        self.kernelH = kernel
        self.kernelW = kernel
        self.strideH = stride
        self.strideW = stride
        self.padding = padding
        self.groups = groups
        self.bias = bias
        self.batchNormFolded = batchNormFolded
    }
}

/// A pooling window.
public struct Pooling: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case max, average }
    public var kind: Kind
    public var kernel: Int
    public var stride: Int
    public var padding: Padding
    public var rounding: Rounding
    /// Over the whole spatial extent (kernel and stride ignored).
    public var global: Bool
    /// Average pooling: whether padded elements count in the divisor (ACL's `exclude_padding`
    /// false) — false means divide by the number of real elements.
    public var countPadding: Bool

    public init(kind: Kind, kernel: Int, stride: Int, padding: Padding = .none, rounding: Rounding = .floor,
                global: Bool = false, countPadding: Bool = false) {
        self.kind = kind
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.rounding = rounding
        self.global = global
        self.countPadding = countPadding
    }

    public static func global(_ kind: Kind) -> Pooling { Pooling(kind: kind, kernel: 0, stride: 1, global: true) }
}

/// Cross-channel local response normalisation (AlexNet, GoogLeNet):
/// y = x / (k + alpha / size * sum over `size` neighbouring channels of x^2)^beta.
public struct LRN: Hashable, Sendable, Codable {
    public var size: Int
    public var alpha: Float
    public var beta: Float
    public var k: Float

    public init(size: Int, alpha: Float, beta: Float, k: Float) {
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
    }
}

/// What a layer does.
public enum LayerKind: Hashable, Sendable {
    /// The network's input image.
    case input
    case convolution(Convolution)
    /// Fully connected with this many outputs (input flattened).
    case fullyConnected(outputs: Int)
    case pooling(Pooling)
    case lrn(LRN)
    /// Channel-wise concatenation of the inputs, in order.
    case concat
    /// Element-wise sum of the inputs (ResNet shortcuts).
    case add
    case softmax
    /// fp32 to int8: the input tensor quantized to the output's scale and zero point (inserted by
    /// `Network.quantized`, before an int8 layer that reads an fp32 tensor).
    case quantize
    /// int8 to fp32: the input tensor's bytes as real values again (inserted by
    /// `Network.quantized`, before an fp32 layer that reads an int8 tensor).
    case dequantize

    /// Whether the layer only converts a tensor between fp32 and int8.
    public var isConversion: Bool {
        switch self {
        case .quantize, .dequantize: true
        default: false
        }
    }

    /// A short name ("conv", "fc", "pool", "lrn", "concat", "add", "softmax", "input", "quantize",
    /// "dequantize").
    public var name: String {
        switch self {
        case .input: "input"
        case .convolution(let c): c.groups > 1 ? (c.groups == c.outputChannels ? "dwconv" : "gconv") : "conv"
        case .fullyConnected: "fc"
        case .pooling(let p): p.global ? "gpool" : (p.kind == .max ? "maxpool" : "avgpool")
        case .lrn: "lrn"
        case .concat: "concat"
        case .add: "add"
        case .softmax: "softmax"
        case .quantize: "quantize"
        case .dequantize: "dequantize"
        }
    }
}

/// One node of a network graph.
public struct Layer: Hashable, Sendable {
    /// Its name, as in ARM Compute Library's graph examples ("conv1", "inception_3a/1x1").
    public let name: String
    public let kind: LayerKind
    /// Indices of the layers it reads, earlier in `Network.layers`.
    public let inputs: [Int]
    /// An activation applied to its output (fused into the producing kernel).
    public let activation: Activation?
    /// Its output shape.
    public let output: TensorShape
    /// The number format it computes in; its output is stored as int8 when this is `.int8`, as
    /// fp32 otherwise (a quantize layer is `.int8`, a dequantize layer `.fp32`).
    public let precision: Precision

    public init(name: String, kind: LayerKind, inputs: [Int], activation: Activation?, output: TensorShape, precision: Precision = .fp32) {
        self.name = name
        self.kind = kind
        self.inputs = inputs
        self.activation = activation
        self.output = output
        self.precision = precision
    }

    /// Bytes of one element of its output: 1 when stored as int8, 4 otherwise.
    public var outputElementBytes: Int64 { precision.activationBytes }

    /// The same layer computing in `precision`, reading `inputs`.
    func with(precision: Precision, inputs: [Int]) -> Layer {
        Layer(name: name, kind: kind, inputs: inputs, activation: activation, output: output, precision: precision)
    }
}

/// A network: layers in topological order, layer 0 the input.
public struct Network: Sendable {
    public let name: String
    public let layers: [Layer]
    /// How it was quantized (`quantized(_:)`): `.fp32` for the network as built.
    public let precision: Precision

    public init(name: String, layers: [Layer], precision: Precision = .fp32) {
        self.name = name
        self.layers = layers
        self.precision = precision
    }

    /// The input shape.
    public var input: TensorShape { layers[0].output }
    /// The output shape.
    public var output: TensorShape { layers[layers.count - 1].output }
}
