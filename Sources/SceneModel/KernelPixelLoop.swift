// The scene kernel's pixel loop: the one file in SceneModel that uses raw pointers.
//
// Why: this loop is where a fit spends nearly all its time (every Gaussian × pixel × gradient
// call). Array subscripts inside it cost bounds checks and exclusivity checks per element and
// block LLVM from keeping the AVX2 vectors in registers; raw pointers into the arrays, taken
// once per exposure in `Workspace.render`, let the loop compile to straight vector loads, FMAs
// and stores (see Benchmarks/TesseraBench KernelBenchmark for the throughput). The pointers never
// escape `Workspace.render`; everything else in SceneModel works on arrays.

/// Unaligned vector load of `KernelVector.scalarCount` doubles.
@inline(__always)
func loadVector(_ p: UnsafePointer<Double>) -> KernelVector {
    UnsafeRawPointer(p).loadUnaligned(as: KernelVector.self)
}

/// Unaligned vector load of `SingleVector.scalarCount` floats.
@inline(__always)
func loadVector(_ p: UnsafePointer<Float>) -> SingleVector {
    UnsafeRawPointer(p).loadUnaligned(as: SingleVector.self)
}

/// Adds the 8 float lanes of `v`, folded to 4 doubles, to the 4 doubles at `p`.
@inline(__always)
func addLanes(_ v: SingleVector, _ p: UnsafeMutablePointer<Double>) {
    storeVector(loadVector(p) + KernelVector(v.lowHalf) + KernelVector(v.highHalf), p)
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
    mutating func render(_ ex: KernelExposure, gradient: Bool, culling: Bool, model: UnsafeMutablePointer<Double>?,
                         precision: SceneKernel.Precision = .double, evaluations: inout Int) -> Double {
        let ng = count
        for i in 0..<(6 * KernelVector.scalarCount * ng) { sums[i] = 0 }
        if precision == .single { return renderSingle(ex, gradient: gradient, culling: culling, model: model, evaluations: &evaluations) }
        return gaussians.withUnsafeBufferPointer { gp in
            sums.withUnsafeMutableBufferPointer { sp in
                scratch.withUnsafeMutableBufferPointer { ep in
                    modelBlock.withUnsafeMutableBufferPointer { mp in
                        residualBlock.withUnsafeMutableBufferPointer { rp in
                            ex.x.withUnsafeBufferPointer { xp in
                                ex.y.withUnsafeBufferPointer { yp in
                                    ex.data.withUnsafeBufferPointer { dp in
                                        ex.weight.withUnsafeBufferPointer { wp in
                                            ex.boxes.withUnsafeBufferPointer { bp in
                                                active.withUnsafeMutableBufferPointer { ap in
                                                    Self.renderBlocks(
                                                        blockCount: ex.blockCount, pixelCount: ex.pixelCount, gaussianCount: ng,
                                                        gaussians: gp.baseAddress!, boxes: culling ? bp.baseAddress! : nil,
                                                        active: ap.baseAddress!,
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

    /// The hot loop. Flops per Gaussian-pixel evaluation (counting a multiply-add as 2):
    /// evaluation 2 (dx, dy) + 7 (quadratic form) + 33 (exp, see `KernelMath.exp`) + 2 (model
    /// accumulate) = 44; gradient pass 2 (dx, dy recomputed) + 1 (r·e) + 2 (r·e·dx, r·e·dy) +
    /// 3 (three sums) + 6 (three multiply-add sums) = 14; total 58.
    ///
    /// With `boxes` (4 doubles per sub-block, see `KernelExposure.boxes`) a Gaussian whose centre
    /// is farther from a sub-block's box than its culling radius (slot 6 of `gaussians`), or whose
    /// exponent exceeds its footprint exponent (slot 8) everywhere on the box, is not
    /// evaluated on that sub-block (sub-blocks between two evaluated ones are evaluated too, so
    /// each Gaussian runs over one contiguous range); `active` (≥ `ng` entries) lists the
    /// Gaussians evaluated on the block with their ranges, and the scratch is indexed by
    /// position in that list.
    static func renderBlocks(blockCount: Int, pixelCount: Int, gaussianCount ng: Int, gaussians gp: UnsafePointer<Double>,
                             boxes: UnsafePointer<Double>?, active: UnsafeMutablePointer<Int32>,
                             x: UnsafePointer<Double>, y: UnsafePointer<Double>, data: UnsafePointer<Double>,
                             weight: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>,
                             modelBlock: UnsafeMutablePointer<Double>, residualBlock: UnsafeMutablePointer<Double>,
                             sums: UnsafeMutablePointer<Double>?, modelOut: UnsafeMutablePointer<Double>?,
                             evaluations: inout Int) -> Double {
        let bs = SceneKernel.blockSize, sub = SceneKernel.subBlockSize
        let w = KernelVector.scalarCount
        var chi2 = KernelVector(repeating: 0)
        for block in 0..<blockCount {
            let start = block * bs
            let xb = x + start, yb = y + start
            var c = 0
            while c < bs { storeVector(KernelVector(repeating: 0), modelBlock + c); c += w }
            let na = selectGaussians(block: block, pixelCount: pixelCount, gaussianCount: ng, gaussians: gp, boxes: boxes,
                                     active: active, evaluations: &evaluations)
            // Pass 1: every active Gaussian on its sub-blocks; keep e, accumulate the model.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let p = gp + Workspace.stride * Int(active[a] >> 4)
                let mx = KernelVector(repeating: p[0]), my = KernelVector(repeating: p[1])
                let fxx = KernelVector(repeating: p[2]), fxy = KernelVector(repeating: p[3])
                let fyy = KernelVector(repeating: p[4]), norm = KernelVector(repeating: p[5])
                let eg = scratch + a * bs
                do {
                    c = lo * sub
                    let end = (hi + 1) * sub
                    while c < end {
                        let dx = loadVector(xb + c) - mx
                        let dy = loadVector(yb + c) - my
                        let t = madd(fxy, dy, fxx * dx)
                        let arg = madd(dx, t, (fyy * dy) * dy)
                        let e = KernelMath.exp(arg)
                        storeVector(e, eg + c)
                        storeVector(madd(norm, e, loadVector(modelBlock + c)), modelBlock + c)
                        c += w
                    }
                }
            }
            if let modelOut {
                c = 0
                while c < bs { storeVector(loadVector(modelBlock + c), modelOut + start + c); c += w }
            }
            guard let sums else { continue }
            // Weighted residuals r = (d − m)·w² and χ².
            c = 0
            while c < bs {
                let wv = loadVector(weight + start + c)
                let res = (loadVector(data + start + c) - loadVector(modelBlock + c)) * wv
                chi2 = madd(res, res, chi2)
                storeVector(res * wv, residualBlock + c)
                c += w
            }
            // Pass 2: the six gradient sums of every active Gaussian from the stored values.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let g = Int(active[a] >> 4)
                let p = gp + Workspace.stride * g
                let mx = KernelVector(repeating: p[0]), my = KernelVector(repeating: p[1])
                let eg = scratch + a * bs
                var s0 = KernelVector(repeating: 0), sx = s0, sy = s0, sxx = s0, sxy = s0, syy = s0
                do {
                    c = lo * sub
                    let end = (hi + 1) * sub
                    while c < end {
                        let dx = loadVector(xb + c) - mx
                        let dy = loadVector(yb + c) - my
                        let re = loadVector(residualBlock + c) * loadVector(eg + c)
                        let rex = re * dx, rey = re * dy
                        s0 += re; sx += rex; sy += rey
                        sxx = madd(rex, dx, sxx); sxy = madd(rex, dy, sxy); syy = madd(rey, dy, syy)
                        c += w
                    }
                }
                let sg = sums + 6 * w * g
                storeVector(loadVector(sg) + s0, sg)
                storeVector(loadVector(sg + w) + sx, sg + w)
                storeVector(loadVector(sg + 2 * w) + sy, sg + 2 * w)
                storeVector(loadVector(sg + 3 * w) + sxx, sg + 3 * w)
                storeVector(loadVector(sg + 4 * w) + sxy, sg + 4 * w)
                storeVector(loadVector(sg + 5 * w) + syy, sg + 5 * w)
            }
        }
        return chi2.sum()
    }

    /// `render` in single precision (`SceneKernel.Precision.single`): the same pairs (`selectGaussians` on the
    /// double parameters), evaluated on 8 float lanes by `renderBlocksSingle`.
    mutating func renderSingle(_ ex: KernelExposure, gradient: Bool, culling: Bool, model: UnsafeMutablePointer<Double>?,
                               evaluations: inout Int) -> Double {
        let ng = count
        return gaussians.withUnsafeBufferPointer { gp in
            sums.withUnsafeMutableBufferPointer { sp in
                singleScratch.withUnsafeMutableBufferPointer { ep in
                    singleModel.withUnsafeMutableBufferPointer { mp in
                        singleResidual.withUnsafeMutableBufferPointer { rp in
                            ex.single.x.withUnsafeBufferPointer { xp in
                                ex.single.y.withUnsafeBufferPointer { yp in
                                    ex.single.data.withUnsafeBufferPointer { dp in
                                        ex.single.weight.withUnsafeBufferPointer { wp in
                                            ex.single.centres.withUnsafeBufferPointer { cp in
                                                ex.boxes.withUnsafeBufferPointer { bp in
                                                    active.withUnsafeMutableBufferPointer { ap in
                                                        Self.renderBlocksSingle(
                                                            blockCount: ex.blockCount, pixelCount: ex.pixelCount, gaussianCount: ng,
                                                            gaussians: gp.baseAddress!, boxes: culling ? bp.baseAddress! : nil,
                                                            active: ap.baseAddress!, centres: cp.baseAddress!,
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

    /// The hot loop in single precision. Pixel coordinates are stored relative to their block's centre
    /// (`KernelExposure.SinglePixels`) and each Gaussian's centre is taken relative to it in double, so the offsets
    /// dx, dy carry float's relative precision on a few pixels, not on the pixel's absolute position (a float
    /// coordinate of 4000 is only good to 2.4e−4 pixel). e, the model, the residuals and each block's χ² and
    /// gradient sums are float; χ² and the sums are added into double accumulators block by block (so their
    /// rounding does not grow with the patch's size). Flops per pair: 2 + 7 + 23 (`KernelMath.exp`) + 2 to
    /// evaluate, 14 for the gradient, on 8 lanes instead of 4.
    static func renderBlocksSingle(blockCount: Int, pixelCount: Int, gaussianCount ng: Int, gaussians gp: UnsafePointer<Double>,
                                   boxes: UnsafePointer<Double>?, active: UnsafeMutablePointer<Int32>, centres: UnsafePointer<Double>,
                                   x: UnsafePointer<Float>, y: UnsafePointer<Float>, data: UnsafePointer<Float>,
                                   weight: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                   modelBlock: UnsafeMutablePointer<Float>, residualBlock: UnsafeMutablePointer<Float>,
                                   sums: UnsafeMutablePointer<Double>?, modelOut: UnsafeMutablePointer<Double>?,
                                   evaluations: inout Int) -> Double {
        let bs = SceneKernel.blockSize, sub = SceneKernel.subBlockSize
        let w = SingleVector.scalarCount, dw = KernelVector.scalarCount
        var chi2 = 0.0
        for block in 0..<blockCount {
            let start = block * bs
            let xb = x + start, yb = y + start
            let cx = centres[2 * block], cy = centres[2 * block + 1]
            var c = 0
            while c < bs { storeVector(SingleVector(repeating: 0), modelBlock + c); c += w }
            let na = selectGaussians(block: block, pixelCount: pixelCount, gaussianCount: ng, gaussians: gp, boxes: boxes,
                                     active: active, evaluations: &evaluations)
            // Pass 1: every active Gaussian on its sub-blocks; keep e, accumulate the model.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let p = gp + Workspace.stride * Int(active[a] >> 4)
                let mx = SingleVector(repeating: Float(p[0] - cx)), my = SingleVector(repeating: Float(p[1] - cy))
                let fxx = SingleVector(repeating: Float(p[2])), fxy = SingleVector(repeating: Float(p[3]))
                let fyy = SingleVector(repeating: Float(p[4])), norm = SingleVector(repeating: Float(p[5]))
                let eg = scratch + a * bs
                c = lo * sub
                let end = (hi + 1) * sub
                while c < end {
                    let dx = loadVector(xb + c) - mx
                    let dy = loadVector(yb + c) - my
                    let t = madd(fxy, dy, fxx * dx)
                    let arg = madd(dx, t, (fyy * dy) * dy)
                    let e = KernelMath.exp(arg)
                    storeVector(e, eg + c)
                    storeVector(madd(norm, e, loadVector(modelBlock + c)), modelBlock + c)
                    c += w
                }
            }
            if let modelOut {
                for i in 0..<bs { modelOut[start + i] = Double(modelBlock[i]) }
            }
            guard let sums else { continue }
            // Weighted residuals r = (d − m)·w² and the block's χ².
            var blockChi2 = SingleVector(repeating: 0)
            c = 0
            while c < bs {
                let wv = loadVector(weight + start + c)
                let res = (loadVector(data + start + c) - loadVector(modelBlock + c)) * wv
                blockChi2 = madd(res, res, blockChi2)
                storeVector(res * wv, residualBlock + c)
                c += w
            }
            chi2 += Double(blockChi2.sum())
            // Pass 2: the six gradient sums of every active Gaussian, added into the double sums' 4 lanes.
            for a in 0..<na {
                let lo = Int((active[a] >> 2) & 3), hi = Int(active[a] & 3)
                let g = Int(active[a] >> 4)
                let p = gp + Workspace.stride * g
                let mx = SingleVector(repeating: Float(p[0] - cx)), my = SingleVector(repeating: Float(p[1] - cy))
                let eg = scratch + a * bs
                var s0 = SingleVector(repeating: 0), sx = s0, sy = s0, sxx = s0, sxy = s0, syy = s0
                c = lo * sub
                let end = (hi + 1) * sub
                while c < end {
                    let dx = loadVector(xb + c) - mx
                    let dy = loadVector(yb + c) - my
                    let re = loadVector(residualBlock + c) * loadVector(eg + c)
                    let rex = re * dx, rey = re * dy
                    s0 += re; sx += rex; sy += rey
                    sxx = madd(rex, dx, sxx); sxy = madd(rex, dy, sxy); syy = madd(rey, dy, syy)
                    c += w
                }
                let sg = sums + 6 * dw * g
                addLanes(s0, sg); addLanes(sx, sg + dw); addLanes(sy, sg + 2 * dw)
                addLanes(sxx, sg + 3 * dw); addLanes(sxy, sg + 4 * dw); addLanes(syy, sg + 5 * dw)
            }
        }
        return chi2
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
