/// The scene kernel's pixel loop in single precision (8 Float lanes per AVX register), for
/// throughput comparisons and cheap exploratory evaluations. Everything outside the pixel loop
/// (Gaussian set-up, chain rule) stays in double precision; pixel coordinates are taken relative
/// to each exposure's first pixel so Float keeps ~1e−5-pixel resolution. Gradients are accurate
/// to roughly 1e−4 relative (Float rounding in per-block sums), not to the 1e−5 the double kernel
/// is tested at, so samplers should use `SceneKernel.evaluate`.
typealias FloatVector = SIMD8<Float>
typealias FloatBits = SIMD8<UInt32>

// `madd`, `loadVector` and `storeVector` (KernelMath.swift) serve these lanes too.

extension KernelMath {
    /// Below this exp is flushed to 0 (exp(−87) ≈ 1.6e−38, just above Float's smallest normal).
    static let expLowerLimitFloat: Float = -87

    /// Single-precision exp: the same scheme as the double version (Cody–Waite reduction with a
    /// 1.5·2²³ shifter, 2ⁿ in the exponent bits) with a degree-7 Taylor polynomial
    /// (truncation ≤ 6e−9 relative). Relative error ≲ 3e−7.
    /// Flops: 1 (clamp) + 2 + 1 + 4 (reduction) + 14 (Horner, 7 multiply-adds) + 1 (scale) = 23.
    @inline(__always)
    static func exp(_ x: FloatVector) -> FloatVector {
        let low = x .< FloatVector(repeating: expLowerLimitFloat)
        let xc = x.replacing(with: expLowerLimitFloat, where: low)
        let shifter = FloatVector(repeating: 12582912)  // 1.5 · 2^23
        let kd = madd(xc, FloatVector(repeating: 1.44269504), shifter)
        let n = kd - shifter
        var r = madd(n, FloatVector(repeating: -0.693359375), xc)
        r = madd(n, FloatVector(repeating: 2.12194440e-4), r)
        var p = FloatVector(repeating: 1.0 / 5040)
        p = madd(p, r, FloatVector(repeating: 1.0 / 720))
        p = madd(p, r, FloatVector(repeating: 1.0 / 120))
        p = madd(p, r, FloatVector(repeating: 1.0 / 24))
        p = madd(p, r, FloatVector(repeating: 1.0 / 6))
        p = madd(p, r, FloatVector(repeating: 0.5))
        p = madd(p, r, FloatVector(repeating: 1))
        p = madd(p, r, FloatVector(repeating: 1))
        let bits = unsafeBitCast(kd, to: FloatBits.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: FloatVector.self)
        return (p * scale).replacing(with: 0, where: low)
    }

    static func exp(_ x: Float) -> Float { exp(FloatVector(repeating: x))[0] }
}

extension SceneKernel {
    /// Flops per Gaussian-pixel evaluation of the single-precision loop, counted as for
    /// `flopsPerEvaluation`: 2 + 7 + 23 (exp) + 2 to evaluate, 14 for the gradient sums.
    public static let flopsPerEvaluationSinglePrecision = 48

    /// As `evaluate`, with the pixel loop in single precision (see the file's notes on accuracy).
    public func evaluateSinglePrecision(_ parameters: [Double]) throws -> KernelResult {
        try check(parameters)
        let amps = sersicAmplitudes(parameters)
        var work = Workspace(gaussians: maxGaussians)
        var single = SinglePrecisionBuffers(gaussians: maxGaussians)
        var gradient = [Double](repeating: 0, count: layout.count)
        var chi2 = 0.0
        for ex in exposures {
            work.fill(ex, parameters: parameters, layout: layout, sersic: sersic, amplitudes: amps)
            chi2 += single.render(ex, work: &work)
            work.chainRule(ex, parameters: parameters, layout: layout, sersic: sersic, amplitudes: amps, into: &gradient)
        }
        return KernelResult(logLikelihood: -0.5 * chi2, chi2: chi2, gradient: gradient)
    }
}

/// Float copies of one exposure's pixels and the Float scratch of the single-precision loop.
struct SinglePrecisionBuffers {
    var gaussians: [Float]
    var sums: [Float]
    var scratch: [Float]
    var modelBlock: [Float]
    var residualBlock: [Float]
    var x: [Float] = []
    var y: [Float] = []
    var data: [Float] = []
    var weight: [Float] = []

    init(gaussians n: Int) {
        gaussians = [Float](repeating: 0, count: 8 * max(n, 1))
        sums = [Float](repeating: 0, count: 6 * FloatVector.scalarCount * max(n, 1))
        scratch = [Float](repeating: 0, count: max(n, 1) * SceneKernel.blockSize)
        modelBlock = [Float](repeating: 0, count: SceneKernel.blockSize)
        residualBlock = modelBlock
    }

    /// Renders the Gaussians `work.fill` prepared, leaving the six sums per Gaussian in
    /// `work.sums` (lane 0 of each) for `Workspace.chainRule`; returns χ².
    mutating func render(_ ex: KernelExposure, work: inout Workspace) -> Double {
        let ng = work.count
        let x0 = ex.x.first ?? 0, y0 = ex.y.first ?? 0
        x = ex.x.map { Float($0 - x0) }
        y = ex.y.map { Float($0 - y0) }
        data = ex.data.map { Float($0) }
        weight = ex.weight.map { Float($0) }
        for g in 0..<ng {
            let p = 8 * g
            gaussians[p] = Float(work.gaussians[p] - x0)
            gaussians[p + 1] = Float(work.gaussians[p + 1] - y0)
            for k in 2..<6 { gaussians[p + k] = Float(work.gaussians[p + k]) }
        }
        let fw = FloatVector.scalarCount
        for i in 0..<(6 * fw * ng) { sums[i] = 0 }
        let bs = SceneKernel.blockSize
        var chi2 = 0.0
        gaussians.withUnsafeBufferPointer { gpb in
            sums.withUnsafeMutableBufferPointer { spb in
                scratch.withUnsafeMutableBufferPointer { epb in
                    modelBlock.withUnsafeMutableBufferPointer { mpb in
                        residualBlock.withUnsafeMutableBufferPointer { rpb in
                            x.withUnsafeBufferPointer { xpb in
                                y.withUnsafeBufferPointer { ypb in
                                    data.withUnsafeBufferPointer { dpb in
                                        weight.withUnsafeBufferPointer { wpb in
                                            let gp = gpb.baseAddress!, sums = spb.baseAddress!, scratch = epb.baseAddress!
                                            let model = mpb.baseAddress!, resid = rpb.baseAddress!
                                            let xs = xpb.baseAddress!, ys = ypb.baseAddress!
                                            let ds = dpb.baseAddress!, ws = wpb.baseAddress!
                                            for block in 0..<ex.blockCount {
                                                let start = block * bs
                                                var c = 0
                                                while c < bs { storeVector(FloatVector(repeating: 0), model + c); c += fw }
                                                for g in 0..<ng {
                                                    let p = gp + 8 * g
                                                    let mx = FloatVector(repeating: p[0]), my = FloatVector(repeating: p[1])
                                                    let fxx = FloatVector(repeating: p[2]), fxy = FloatVector(repeating: p[3])
                                                    let fyy = FloatVector(repeating: p[4]), norm = FloatVector(repeating: p[5])
                                                    let eg = scratch + g * bs
                                                    c = 0
                                                    while c < bs {
                                                        let dx = loadVector(xs + start + c) - mx
                                                        let dy = loadVector(ys + start + c) - my
                                                        let t = madd(fxy, dy, fxx * dx)
                                                        let e = KernelMath.exp(madd(dx, t, (fyy * dy) * dy))
                                                        storeVector(e, eg + c)
                                                        storeVector(madd(norm, e, loadVector(model + c)), model + c)
                                                        c += fw
                                                    }
                                                }
                                                var blockChi2 = FloatVector(repeating: 0)
                                                c = 0
                                                while c < bs {
                                                    let wv = loadVector(ws + start + c)
                                                    let res = (loadVector(ds + start + c) - loadVector(model + c)) * wv
                                                    blockChi2 = madd(res, res, blockChi2)
                                                    storeVector(res * wv, resid + c)
                                                    c += fw
                                                }
                                                for l in 0..<fw { chi2 += Double(blockChi2[l]) }
                                                for g in 0..<ng {
                                                    let p = gp + 8 * g
                                                    let mx = FloatVector(repeating: p[0]), my = FloatVector(repeating: p[1])
                                                    let eg = scratch + g * bs
                                                    var s0 = FloatVector(repeating: 0), sx = s0, sy = s0, sxx = s0, sxy = s0, syy = s0
                                                    c = 0
                                                    while c < bs {
                                                        let dx = loadVector(xs + start + c) - mx
                                                        let dy = loadVector(ys + start + c) - my
                                                        let re = loadVector(resid + c) * loadVector(eg + c)
                                                        let rex = re * dx, rey = re * dy
                                                        s0 += re; sx += rex; sy += rey
                                                        sxx = madd(rex, dx, sxx); sxy = madd(rex, dy, sxy); syy = madd(rey, dy, syy)
                                                        c += fw
                                                    }
                                                    let sg = sums + 6 * fw * g
                                                    storeVector(loadVector(sg) + s0, sg)
                                                    storeVector(loadVector(sg + fw) + sx, sg + fw)
                                                    storeVector(loadVector(sg + 2 * fw) + sy, sg + 2 * fw)
                                                    storeVector(loadVector(sg + 3 * fw) + sxx, sg + 3 * fw)
                                                    storeVector(loadVector(sg + 4 * fw) + sxy, sg + 4 * fw)
                                                    storeVector(loadVector(sg + 5 * fw) + syy, sg + 5 * fw)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Hand the sums to the double chain rule. The Float sums are about the shifted origin:
        // d = pixel − centre is the same in both frames, so they need no correction.
        let w = KernelVector.scalarCount
        for i in 0..<(6 * w * ng) { work.sums[i] = 0 }
        for g in 0..<ng {
            for k in 0..<6 {
                var t = 0.0
                for l in 0..<fw { t += Double(sums[(6 * g + k) * fw + l]) }
                work.sums[(6 * g + k) * w] = t
            }
        }
        return chi2
    }
}
