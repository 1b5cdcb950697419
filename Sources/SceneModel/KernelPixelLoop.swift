// The scene kernel's pixel loop: the one file in SceneModel that uses raw pointers.
//
// Why: this loop is where a fit spends nearly all its time (every Gaussian × pixel × gradient
// call). Array subscripts inside it cost bounds checks and exclusivity checks per element and
// block LLVM from keeping the AVX2 vectors in registers; raw pointers into the arrays, taken
// once per exposure in `Workspace.render`, let the loop compile to straight vector loads, FMAs
// and stores (see Benchmarks/TesseraBench KernelBenchmark for the throughput). The pointers never
// escape `Workspace.render`; everything else in SceneModel works on arrays.

/// The lanes the pixel loop runs on: 4 doubles (`KernelVector`, `SceneKernel.Precision.double`) or 8 floats
/// (`SingleVector`, `.single`). `renderBlocks` is generic over them and is specialised for each (one module, whole-
/// module optimisation), so both compile to straight vector code.
protocol KernelLanes: SIMD where Scalar: BinaryFloatingPoint {
    static func exp(_ x: Self) -> Self
    /// Unaligned load of one vector.
    static func load(_ p: UnsafePointer<Scalar>) -> Self
    /// The lanes folded to 4 doubles (the gradient sums and χ² are accumulated in double).
    static func folded(_ v: Self) -> KernelVector
}

extension KernelLanes {
    /// Adds `v`, folded to 4 doubles, into the 4 doubles at `p`.
    @inline(__always) static func add(_ v: Self, into p: UnsafeMutablePointer<Double>) {
        storeVector(KernelVector.load(p) + folded(v), p)
    }
}

extension SIMD4: KernelLanes where Scalar == Double {
    @inline(__always) static func exp(_ x: Self) -> Self { KernelMath.exp(x) }
    @inline(__always) static func load(_ p: UnsafePointer<Double>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func folded(_ v: Self) -> KernelVector { v }
}

extension SIMD8: KernelLanes where Scalar == Float {
    @inline(__always) static func exp(_ x: Self) -> Self { KernelMath.exp(x) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
    @inline(__always) static func folded(_ v: Self) -> KernelVector { KernelVector(v.lowHalf) + KernelVector(v.highHalf) }
}

@inline(__always)
func storeVector<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

extension Workspace {
    /// Renders the filled Gaussians on `ex`. With `gradient`, accumulates the six sums per
    /// Gaussian into `sums` and returns χ²; with `model`, writes the model of every (padded)
    /// pixel there (kernel pixel order) and returns 0. With `culling`, skips Gaussian × block
    /// pairs as described on `SceneKernel`. Adds the pairs evaluated to `evaluations`.
    /// `precision` picks the lanes (`SceneKernel.Precision`); both evaluate the same pairs.
    mutating func render(_ ex: KernelExposure, gradient: Bool, culling: Bool, model: UnsafeMutablePointer<Double>?,
                         precision: SceneKernel.Precision = .double, evaluations: inout Int) -> Double {
        for i in 0..<(6 * KernelVector.scalarCount * count) { sums[i] = 0 }
        switch precision {
        case .double:
            return Self.render(KernelVector.self, ex, pixels: (ex.x, ex.y, ex.data, ex.weight), centres: nil, gaussians: gaussians,
                               count: count, active: &active, sums: &sums, scratch: &scratch, modelBlock: &modelBlock,
                               residualBlock: &residualBlock, gradient: gradient, culling: culling, model: model,
                               evaluations: &evaluations)
        case .single:
            guard let f = ex.single else { preconditionFailure("exposure \(ex.name): single-precision pixels not built") }
            return Self.render(SingleVector.self, ex, pixels: (f.x, f.y, f.data, f.weight), centres: f.centres, gaussians: gaussians,
                               count: count, active: &active, sums: &sums, scratch: &singleScratch, modelBlock: &singleModel,
                               residualBlock: &singleResidual, gradient: gradient, culling: culling, model: model,
                               evaluations: &evaluations)
        }
    }

    /// `render` on lanes `V`: takes the pointers once and runs `renderBlocks`.
    @inline(__always)
    static func render<V: KernelLanes>(_: V.Type, _ ex: KernelExposure, pixels: (x: [V.Scalar], y: [V.Scalar], data: [V.Scalar], weight: [V.Scalar]),
                                       centres: [Double]?, gaussians: [Double], count ng: Int, active: inout [Int32], sums: inout [Double],
                                       scratch: inout [V.Scalar], modelBlock: inout [V.Scalar], residualBlock: inout [V.Scalar],
                                       gradient: Bool, culling: Bool, model: UnsafeMutablePointer<Double>?, evaluations: inout Int) -> Double {
        let noCentres: [Double] = []
        return gaussians.withUnsafeBufferPointer { gp in
            sums.withUnsafeMutableBufferPointer { sp in
                scratch.withUnsafeMutableBufferPointer { ep in
                    modelBlock.withUnsafeMutableBufferPointer { mp in
                        residualBlock.withUnsafeMutableBufferPointer { rp in
                            pixels.x.withUnsafeBufferPointer { xp in
                                pixels.y.withUnsafeBufferPointer { yp in
                                    pixels.data.withUnsafeBufferPointer { dp in
                                        pixels.weight.withUnsafeBufferPointer { wp in
                                            (centres ?? noCentres).withUnsafeBufferPointer { cp in
                                                ex.boxes.withUnsafeBufferPointer { bp in
                                                    active.withUnsafeMutableBufferPointer { ap in
                                                        renderBlocks(
                                                            V.self, blockCount: ex.blockCount, pixelCount: ex.pixelCount, gaussianCount: ng,
                                                            gaussians: gp.baseAddress!, boxes: culling ? bp.baseAddress! : nil,
                                                            active: ap.baseAddress!, centres: centres == nil ? nil : cp.baseAddress!,
                                                            x: xp.baseAddress!, y: yp.baseAddress!, data: dp.baseAddress!,
                                                            weight: wp.baseAddress!, scratch: ep.baseAddress!, modelBlock: mp.baseAddress!,
                                                            residualBlock: rp.baseAddress!, sums: gradient ? sp.baseAddress! : nil,
                                                            modelOut: model, evaluations: &evaluations)
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
        }
    }

    /// The hot loop, on lanes `V`. Flops per Gaussian-pixel evaluation (counting a multiply-add as 2):
    /// evaluation 2 (dx, dy) + 7 (quadratic form) + 33 (exp, see `KernelMath.exp`; 23 in single precision) + 2
    /// (model accumulate) = 44 (34); gradient pass 2 (dx, dy recomputed) + 1 (r·e) + 2 (r·e·dx, r·e·dy) +
    /// 3 (three sums) + 6 (three multiply-add sums) = 14; total 58 (48).
    ///
    /// With `boxes` (4 doubles per sub-block, see `KernelExposure.boxes`) a Gaussian whose centre
    /// is farther from a sub-block's box than its culling radius (slot 6 of `gaussians`), or whose
    /// exponent exceeds its footprint exponent (slot 8) everywhere on the box, is not
    /// evaluated on that sub-block (sub-blocks between two evaluated ones are evaluated too, so
    /// each Gaussian runs over one contiguous range); `active` (≥ `ng` entries) lists the
    /// Gaussians evaluated on the block with their ranges, and the scratch is indexed by
    /// position in that list.
    ///
    /// With `centres` (x, y per block; the single-precision pixels, `KernelExposure.SinglePixels`) the pixel
    /// coordinates are relative to their block's centre and each Gaussian's centre is taken relative to it in
    /// double, so the offsets dx, dy carry the lanes' relative precision on a few pixels, not on the pixel's
    /// absolute position (a float coordinate of 4000 is only good to 2.4e−4 pixel). Each block's χ² and gradient
    /// sums are added into double accumulators (`KernelLanes.add`), so their rounding does not grow with the
    /// patch's size.
    static func renderBlocks<V: KernelLanes>(_: V.Type, blockCount: Int, pixelCount: Int, gaussianCount ng: Int,
                                             gaussians gp: UnsafePointer<Double>, boxes: UnsafePointer<Double>?,
                                             active: UnsafeMutablePointer<Int32>, centres: UnsafePointer<Double>?,
                                             x: UnsafePointer<V.Scalar>, y: UnsafePointer<V.Scalar>, data: UnsafePointer<V.Scalar>,
                                             weight: UnsafePointer<V.Scalar>, scratch: UnsafeMutablePointer<V.Scalar>,
                                             modelBlock: UnsafeMutablePointer<V.Scalar>, residualBlock: UnsafeMutablePointer<V.Scalar>,
                                             sums: UnsafeMutablePointer<Double>?, modelOut: UnsafeMutablePointer<Double>?,
                                             evaluations: inout Int) -> Double {
        let bs = SceneKernel.blockSize, sub = SceneKernel.subBlockSize
        let w = V.scalarCount, dw = KernelVector.scalarCount
        var chi2 = KernelVector(repeating: 0)
        func splat(_ v: Double) -> V { V(repeating: V.Scalar(v)) }
        for block in 0..<blockCount {
            let start = block * bs
            let xb = x + start, yb = y + start
            let cx = centres.map { $0[2 * block] } ?? 0, cy = centres.map { $0[2 * block + 1] } ?? 0
            var c = 0
            while c < bs { storeVector(V(repeating: 0), modelBlock + c); c += w }
            let na = selectGaussians(block: block, pixelCount: pixelCount, gaussianCount: ng, gaussians: gp, boxes: boxes,
                                     active: active, evaluations: &evaluations)
            // Pass 1: every active Gaussian on its sub-blocks; keep e, accumulate the model.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let p = gp + Workspace.stride * Int(active[a] >> 4)
                let mx = splat(p[0] - cx), my = splat(p[1] - cy)
                let fxx = splat(p[2]), fxy = splat(p[3]), fyy = splat(p[4]), norm = splat(p[5])
                let eg = scratch + a * bs
                c = lo * sub
                let end = (hi + 1) * sub
                while c < end {
                    let dx = V.load(xb + c) - mx
                    let dy = V.load(yb + c) - my
                    let t = madd(fxy, dy, fxx * dx)
                    let arg = madd(dx, t, (fyy * dy) * dy)
                    let e = V.exp(arg)
                    storeVector(e, eg + c)
                    storeVector(madd(norm, e, V.load(modelBlock + c)), modelBlock + c)
                    c += w
                }
            }
            if let modelOut {
                for i in 0..<bs { modelOut[start + i] = Double(modelBlock[i]) }
            }
            guard let sums else { continue }
            // Weighted residuals r = (d − m)·w² and the block's χ².
            var blockChi2 = V(repeating: 0)
            c = 0
            while c < bs {
                let wv = V.load(weight + start + c)
                let res = (V.load(data + start + c) - V.load(modelBlock + c)) * wv
                blockChi2 = madd(res, res, blockChi2)
                storeVector(res * wv, residualBlock + c)
                c += w
            }
            chi2 += V.folded(blockChi2)
            // Pass 2: the six gradient sums of every active Gaussian from the stored values.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let g = Int(active[a] >> 4)
                let p = gp + Workspace.stride * g
                let mx = splat(p[0] - cx), my = splat(p[1] - cy)
                let eg = scratch + a * bs
                var s0 = V(repeating: 0), sx = s0, sy = s0, sxx = s0, sxy = s0, syy = s0
                c = lo * sub
                let end = (hi + 1) * sub
                while c < end {
                    let dx = V.load(xb + c) - mx
                    let dy = V.load(yb + c) - my
                    let re = V.load(residualBlock + c) * V.load(eg + c)
                    let rex = re * dx, rey = re * dy
                    s0 += re; sx += rex; sy += rey
                    sxx = madd(rex, dx, sxx); sxy = madd(rex, dy, sxy); syy = madd(rey, dy, syy)
                    c += w
                }
                let sg = sums + 6 * dw * g
                V.add(s0, into: sg); V.add(sx, into: sg + dw); V.add(sy, into: sg + 2 * dw)
                V.add(sxx, into: sg + 3 * dw); V.add(sxy, into: sg + 4 * dw); V.add(syy, into: sg + 5 * dw)
            }
        }
        return chi2.sum()
    }

    /// The Gaussians block `block` evaluates and on which sub-blocks, into `active` (index << 4 | first sub-block
    /// << 2 | last sub-block); returns their number and adds the pairs to `evaluations`. With `boxes` nil every
    /// Gaussian on the whole block (no culling). Shared by both precisions: the decisions use the double
    /// parameters, so both loops evaluate the same pairs.
    @inline(__always)
    static func selectGaussians(block: Int, pixelCount: Int, gaussianCount ng: Int, gaussians gp: UnsafePointer<Double>,
                                boxes: UnsafePointer<Double>?, active: UnsafeMutablePointer<Int32>,
                                evaluations: inout Int) -> Int {
        let bs = SceneKernel.blockSize, sub = SceneKernel.subBlockSize
        let nsub = bs / sub
        let start = block * bs
        var na = 0
        if let boxes {
            let bx = boxes + 4 * nsub * block
            // The block's box: the union of its sub-blocks' boxes.
            var bx0 = bx[0], bx1 = bx[1], by0 = bx[2], by1 = bx[3]
            for k in 1..<nsub {
                bx0 = min(bx0, bx[4 * k]); bx1 = max(bx1, bx[4 * k + 1])
                by0 = min(by0, bx[4 * k + 2]); by1 = max(by1, bx[4 * k + 3])
            }
            for g in 0..<ng {
                let p = gp + Workspace.stride * g
                let mx = p[0], my = p[1], r2 = p[6]
                var mask: Int32 = 0
                let always = p[7] != 0
                if always {
                    mask = 0xF
                } else {
                    let dx = max(bx0 - mx, mx - bx1, 0), dy = max(by0 - my, my - by1, 0)
                    if dx * dx + dy * dy > r2 { continue }  // the whole block is out of reach
                }
                for k in 0..<nsub where !always {
                    let b = bx + 4 * k
                    let dx = max(b[0] - mx, mx - b[1], 0), dy = max(b[2] - my, my - b[3], 0)
                    // Cheap bound first (round approximation), then the exact minimum over the box.
                    if dx * dx + dy * dy <= r2,
                       minimumExponent(a: -p[2], b: -p[3], c: -p[4], x0: b[0] - mx, x1: b[1] - mx,
                                       y0: b[2] - my, y1: b[3] - my) <= p[8] {
                        mask |= 1 << k
                    }
                }
                if mask != 0 {
                    // Evaluate the contiguous run of sub-blocks from the first kept to the last
                    // (one loop of variable length: cheaper than a branch per sub-block).
                    let lo = mask.trailingZeroBitCount, hi = 31 - mask.leadingZeroBitCount
                    active[na] = Int32(truncatingIfNeeded: g) << 4 | Int32(lo << 2 | hi)
                    na += 1
                    for k in lo...hi { evaluations += max(0, min(sub, pixelCount - start - k * sub)) }
                }
            }
        } else {
            for g in 0..<ng { active[g] = Int32(truncatingIfNeeded: g) << 4 | 3 }
            na = ng
            evaluations += ng * min(bs, pixelCount - start)
        }
        return na
    }

    /// The model of every (padded) pixel of `ex`, in kernel pixel order, into `model`
    /// (`ex.blockCount × SceneKernel.blockSize` entries).
    mutating func renderModel(_ ex: KernelExposure, culling: Bool, precision: SceneKernel.Precision = .double,
                              into model: inout [Double], evaluations: inout Int) {
        precondition(model.count >= ex.blockCount * SceneKernel.blockSize, "renderModel: model buffer too small")
        _ = model.withUnsafeMutableBufferPointer {
            render(ex, gradient: false, culling: culling, model: $0.baseAddress!, precision: precision, evaluations: &evaluations)
        }
    }
}
