/// Vector arithmetic for the scene kernel's inner loop.
///
/// The kernel's lane type is `KernelVector` (4 doubles: one AVX register; 8 lanes measured no
/// faster). Fused multiply-add is used only when the build defines `TESSERA_FMA` together with a
/// CPU target that has FMA (Package.swift does both for SceneModel on x86-64 unless
/// TESSERA_PORTABLE=1 is set); without the CPU target, `addingProduct` on a vector would become
/// a libm call per lane, so the portable build uses separate multiply and add (same results to
/// rounding).
typealias KernelVector = SIMD4<Double>
/// Integer lanes of the same width, for building 2ⁿ in `KernelMath.exp`.
typealias KernelBits = SIMD4<UInt64>
/// The single-precision pixel loop's lane type (`SceneKernel.Precision.single`): 8 floats, one AVX register,
/// twice the lanes of `KernelVector`.
typealias SingleVector = SIMD8<Float>
typealias SingleBits = SIMD8<UInt32>

/// a · b + c, fused when the build enables FMA (see `KernelVector`).
@inline(__always)
func madd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar: FloatingPoint {
    #if TESSERA_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

enum KernelMath {
    /// Arguments below this are flushed to exp = 0 (exp(−700) ≈ 1e−304, far below any pixel's
    /// precision, and it keeps 2ⁿ a normal number in the scaling step).
    static let expLowerLimit = -700.0

    /// Vectorisable exp for arguments ≤ ~700 (the kernel only needs x ≤ 0).
    ///
    /// Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, with ln2 split into a 32-bit head
    /// (n·ln2_hi exact for |n| < 2²¹) and a tail; exp(r) by its Taylor polynomial of degree 12
    /// (truncation r¹³/13! ≤ 1.7e−16 relative), Horner form; 2ⁿ built directly in the exponent
    /// bits. n is obtained with the 1.5·2⁵² shifter trick so no float→int vector conversion
    /// (absent in AVX2) is needed: the low bits of x·log₂e + 1.5·2⁵² are n in two's complement.
    /// Measured relative error vs Foundation's exp: ≤ ~5e−16 (see KernelTests).
    /// Flops: 1 (clamp) + 2 (n) + 1 + 4 (reduction) + 24 (Horner, 12 multiply-adds) + 1 (scale) = 33.
    @inline(__always)
    static func exp(_ x: KernelVector) -> KernelVector {
        let low = x .< KernelVector(repeating: expLowerLimit)
        let xc = x.replacing(with: expLowerLimit, where: low)
        let shifter = KernelVector(repeating: 6755399441055744.0)  // 1.5 · 2^52
        let kd = madd(xc, KernelVector(repeating: 1.4426950408889634), shifter)
        let n = kd - shifter
        var r = madd(n, KernelVector(repeating: -6.93147180369123816490e-01), xc)
        r = madd(n, KernelVector(repeating: -1.90821492927058770002e-10), r)
        var p = KernelVector(repeating: 1.0 / 479001600.0)  // 1/12!
        p = madd(p, r, KernelVector(repeating: 1.0 / 39916800.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 3628800.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 362880.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 40320.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 5040.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 720.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 120.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 24.0))
        p = madd(p, r, KernelVector(repeating: 1.0 / 6.0))
        p = madd(p, r, KernelVector(repeating: 0.5))
        p = madd(p, r, KernelVector(repeating: 1.0))
        p = madd(p, r, KernelVector(repeating: 1.0))
        let bits = unsafeBitCast(kd, to: KernelBits.self)
        let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: KernelVector.self)
        return (p * scale).replacing(with: 0, where: low)
    }

    /// Scalar convenience (tests): the vector exp on one value.
    static func exp(_ x: Double) -> Double { exp(KernelVector(repeating: x))[0] }

    /// Arguments below this are flushed to 0 in single precision (exp(−87) ≈ 1.6e−38, just above the smallest
    /// normal float, and it keeps 2ⁿ normal).
    static let singleExpLowerLimit: Float = -87

    /// The single-precision exp for arguments ≤ 0, as the double one but with float constants: Cody–Waite
    /// reduction with ln2 = 0.693359375 − 2.12194440e−4 (the head has 9 significant bits, so n·head is exact for
    /// |n| ≤ 126), exp(r) by its degree-7 Taylor polynomial (truncation r⁸/8! ≤ 5e−9 relative for |r| ≤ ln2/2),
    /// 2ⁿ from the 1.5·2²³ shifter's low bits. Measured relative error against Foundation's exp ≤ 3e−7 (a few
    /// float ulps; see KernelTests). Flops: 1 + 2 + 1 + 4 + 14 (7 multiply-adds) + 1 = 23, on 8 lanes.
    @inline(__always)
    static func exp(_ x: SingleVector) -> SingleVector {
        let low = x .< SingleVector(repeating: singleExpLowerLimit)
        let xc = x.replacing(with: singleExpLowerLimit, where: low)
        let shifter = SingleVector(repeating: 12_582_912)  // 1.5 · 2^23
        let kd = madd(xc, SingleVector(repeating: 1.442_695_04), shifter)
        let n = kd - shifter
        var r = madd(n, SingleVector(repeating: -0.693_359_375), xc)
        r = madd(n, SingleVector(repeating: 2.121_944_40e-4), r)
        var p = SingleVector(repeating: 1.0 / 5040)
        p = madd(p, r, SingleVector(repeating: 1.0 / 720))
        p = madd(p, r, SingleVector(repeating: 1.0 / 120))
        p = madd(p, r, SingleVector(repeating: 1.0 / 24))
        p = madd(p, r, SingleVector(repeating: 1.0 / 6))
        p = madd(p, r, SingleVector(repeating: 0.5))
        p = madd(p, r, SingleVector(repeating: 1))
        p = madd(p, r, SingleVector(repeating: 1))
        let bits = unsafeBitCast(kd, to: SingleBits.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SingleVector.self)
        return (p * scale).replacing(with: 0, where: low)
    }

    /// Scalar convenience (tests): the single-precision vector exp on one value.
    static func exp(_ x: Float) -> Float { exp(SingleVector(repeating: x))[0] }
}
