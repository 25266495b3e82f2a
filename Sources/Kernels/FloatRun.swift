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

    /// Copies every other float: `d[t] = s[2 t]` for t in 0 ..< n, 8 at a time (16 loaded, the
    /// even lanes kept) while the 16 lie within `s[0 ..< readable]`, the rest one by one. (Stride-2
    /// im2col rows and stride-2 max pooling.)
    @inline(__always)
    static func copyEveryOther(_ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, readable: Int) {
        var t = 0
        while t &+ 8 <= n && 2 &* t &+ 16 <= readable {
            let v = UnsafeRawPointer(s + 2 &* t).loadUnaligned(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(d + t).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
            t &+= 8
        }
        while t < n { d[t] = s[2 &* t]; t &+= 1 }
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
