/// The number format a network, or one of its layers, computes in.
public enum Precision: String, Hashable, Sendable, Codable, CaseIterable {
    /// 32-bit floats throughout.
    case fp32
    /// int8 weights (per output channel, symmetric), uint8 activations (per tensor, asymmetric,
    /// with zero points), int32 sums requantized to the next tensor's scale, as TFLite and ARM
    /// Compute Library run quantized networks.
    case int8
    /// int8 weights expanded to fp32 as each layer runs; fp32 activations and arithmetic (the
    /// study's 8-bit-weights experiment).
    case int8Weights = "int8-weights"

    /// Bytes of one stored activation element.
    public var activationBytes: Int64 { self == .int8 ? 1 : 4 }
    /// Bytes of one stored weight (biases are 4 bytes in every precision: fp32 or int32).
    public var weightBytes: Int64 { self == .fp32 ? 4 : 1 }
}
