/// Copying and zeroing runs of floats too short for a library call to pay (a panel row of
/// im2col, a padded row of a depthwise plane), with vector moves.
enum FloatRun {
    /// Copies `n` floats.
    @inline(__always)
    static func copy(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
        let src = UnsafeRawPointer(s), dst = UnsafeMutableRawPointer(d)
        var i = 0
        while i &+ 16 <= n {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self), toByteOffset: i &* 4, as: SIMD16<Float>.self)
            i &+= 16
        }
        if i &+ 8 <= n {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self), toByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        if i &+ 4 <= n {
            dst.storeBytes(of: src.loadUnaligned(fromByteOffset: i &* 4, as: SIMD4<Float>.self), toByteOffset: i &* 4, as: SIMD4<Float>.self)
            i &+= 4
        }
        while i < n { d[i] = s[i]; i &+= 1 }
    }

    /// Zeroes `n` floats.
    @inline(__always)
    static func zero(_ d: UnsafeMutablePointer<Float>, _ n: Int) {
        let dst = UnsafeMutableRawPointer(d)
        var i = 0
        while i &+ 16 <= n { dst.storeBytes(of: SIMD16<Float>(), toByteOffset: i &* 4, as: SIMD16<Float>.self); i &+= 16 }
        if i &+ 8 <= n { dst.storeBytes(of: SIMD8<Float>(), toByteOffset: i &* 4, as: SIMD8<Float>.self); i &+= 8 }
        if i &+ 4 <= n { dst.storeBytes(of: SIMD4<Float>(), toByteOffset: i &* 4, as: SIMD4<Float>.self); i &+= 4 }
        while i < n { d[i] = 0; i &+= 1 }
    }
}
