/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny seeded generator, so that weights, inputs,
/// benchmark data and test data are the same on every machine and thread count. The one copy in
/// socprof (the weights' values depend on it: change nothing here without a reason).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 24 bits.
    public mutating func nextFloat() -> Float { Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24) }

    /// Uniform in [0, 1), 53 bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
