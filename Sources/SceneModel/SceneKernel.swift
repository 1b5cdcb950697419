import Astrometry
import Foundation

/// The likelihood of a patch at one parameter vector.
public struct KernelResult: Sendable {
    /// ln L = −χ²/2 (the Gaussian normalisation, constant in the parameters, is dropped).
    public var logLikelihood: Double
    /// χ² = Σ ((data − model) · inverseError)² over every pixel of every exposure of the patch.
    public var chi2: Double
    /// Exact ∂ ln L / ∂θ for every parameter of the kernel's `layout`.
    public var gradient: [Double]
    /// Gaussian × pixel pairs this call actually evaluated (culled pairs and block padding not
    /// counted). Equals `SceneKernel.gaussianPixelEvaluationsPerCall` when culling is off.
    public var gaussianPixelEvaluations: Int

    public init(logLikelihood: Double, chi2: Double, gradient: [Double], gaussianPixelEvaluations: Int = 0) {
        self.logLikelihood = logLikelihood; self.chi2 = chi2; self.gradient = gradient
        self.gaussianPixelEvaluations = gaussianPixelEvaluations
    }
}

/// Renders a patch's active sources on every exposure of the patch and returns the model, χ²
/// and the exact gradient of ln L with respect to every active parameter.
///
/// **Model.** On exposure e (band b, calibration c_e, PSF components j with amplitude ψ_j, mean
/// offset μ_j, covariance P_j), galaxy s with Sérsic components k (amplitude a_k(n), radius
/// r_k·rhalf) is the Gaussian mixture
///   Σ_{k,j} flux_b · c_e · a_k(n) · ψ_j · N(x; p_s + μ_j, J Σ_k Jᵀ + P_j + I/12),
/// with Σ_k = (r_k·rhalf)² (u uᵀ + q² v vᵀ) the on-sky covariance (`SceneModelInfo`), J and p_s
/// the exposure's WCS linearised at the source (`LocalAstrometry`), and I/12 the second moment
/// of the unit pixel top-hat: convolving with it and sampling at the pixel centre equals the
/// pixel integral up to fourth-order terms in (pixel / Gaussian width), which matters for
/// undersampled PSFs. Point sources have Σ = 0 and a_k = 1. Values are the normalised density at
/// the pixel centre times one pixel², i.e. counts per pixel.
///
/// **Computation.** Per exposure every image-plane Gaussian (source × Sérsic component × PSF
/// component) gets its centre, −½·inverse covariance and normalisation once. Pixels are
/// processed in blocks of `blockSize`: every Gaussian is evaluated on the block once (values
/// kept in a scratch buffer), summed into the model, the weighted residuals
/// r = (d − m)·w² are formed, and each Gaussian accumulates the six sums
/// Σ r e, Σ r e dx, Σ r e dy, Σ r e dx², Σ r e dx dy, Σ r e dy² (e = exp(−½ dᵀ F d)) from the
/// stored values. From those sums the image-plane gradient (amplitude, centre, covariance) is
/// exact, and the chain rule through J, the PSF, the Sérsic table and the shape gives
/// ∂ ln L/∂θ. Memory is linear in sources × components × block size; there are no caps.
///
/// **Culling.** The kernel stores each exposure's pixels in Z (Morton) order of their integer
/// pixel coordinates, so a block of 64 consecutive pixels is a compact tile (an aligned 8×8
/// square where the patch has all its pixels; `modelImages` returns the caller's order). Each
/// sub-block of 16 pixels (a 4×4 square on a full grid) keeps the bounding box of its pixel
/// centres. With `culling` on, a Gaussian is skipped on a sub-block when the minimum of its
/// exponent ½ dᵀ F d (F = C⁻¹, d = pixel − centre) over the box exceeds `cullingExponent`. A
/// cheap lower bound is tried first,
///   ½ dᵀ F d ≥ ½ λ_min(F) |d|² = |d|² / (2 λ_max(C)) ≥ dist(centre, box)² / (2 λ_max(C)),
/// and where it does not exclude the pair, the exact minimum over the box
/// (`Workspace.minimumExponent`) decides, which is tighter for elongated Gaussians. Per block,
/// each Gaussian runs over the sub-blocks from the first to the last one it is kept on (a
/// skippable sub-block between two kept ones is evaluated anyway). A skipped Gaussian is exactly
/// 0 on every pixel of the sub-block: it adds nothing to the model there and takes no part in
/// that sub-block's gradient sums. The model then differs from the un-culled one by less than
/// exp(−cullingExponent) ≈ 8.5e−17 of the skipped Gaussian's peak value N per skipped pair. The
/// skip decisions are piecewise constant in the parameters, so the gradient (sums over evaluated
/// pixels only, same structure as without culling) is the exact gradient of the culled model,
/// which differs from the un-culled gradient by terms of that same relative size.
///
/// **Footprints.** With `footprintTolerance` τ > 0 (off by default; 0.01 is the measured setting), each Gaussian's cut-off
/// exponent is set by the noise instead of by double-precision rounding: a Gaussian of peak
/// value N (counts per pixel) and image-plane covariance C on an exposure whose smallest pixel
/// noise is 1/w_max is kept where its exponent is at most
///   E_g = ln( w_max |N| √(2π √det C) / ε ),   ε = τ / (Gaussians of the patch, all exposures),
/// capped at `cullingExponent` (a Gaussian with E_g < 0 is dropped everywhere). Why this bounds
/// the error: the pixels a Gaussian is skipped on all have exponent > E_g, and the ellipse
/// {½ dᵀC⁻¹d ≤ t} has area 2πt√det C, so the noise-weighted norm of what is dropped is
///   ‖w·δ_g‖₂² ≤ 2 · w_max² N² ∫_{E_g}^∞ e^{−2t} 2π√det C dt = 2π√det C · w_max² N² e^{−2E_g} = ε²
/// (the factor 2 covers summing over a pixel grid instead of integrating, for Gaussians as
/// narrow as the pixel-top-hat floor I/12 allows). By the triangle inequality the whole patch's
/// model error obeys ‖w·δ‖₂ ≤ τ. For a linear(ised) fit that moves any parameter's estimate by at
/// most τ of its own standard error (the whitened model derivative along any parameter direction
/// has unit norm per standard error; Cauchy–Schwarz), and the likelihood changes by at most
/// τ·‖w·r‖₂ + τ²/2, r the residual. `FootprintTests` checks the bound on a blended patch and that
/// it fails for a footprint sized for 100τ. Footprints depend on the amplitude and shape, so,
/// like culling, they make the model piecewise smooth: the gradient is exact on each piece; the
/// steps between pieces are below the budget above. τ = 0 restores the exact cut at
/// `cullingExponent` (the benchmarks' "before").
public struct SceneKernel: Sendable {
    /// Pixels per block: a multiple of the vector width; the scratch buffer is
    /// (Gaussians of one exposure) × blockSize doubles.
    static let blockSize = 64
    /// Culling granularity: each block is 4 sub-blocks of 16 consecutive pixels (aligned 4×4
    /// squares of a full grid in the kernel's Z order), each with its own bounding box.
    static let subBlockSize = 16

    public let layout: ParameterLayout
    public let sersic: SersicMixture
    private(set) var exposures: [KernelExposure]

    /// Skip negligible Gaussian × block pairs (see "Culling" above). On by default; turn it off
    /// to evaluate every pair (benchmarks, cross-checks).
    public var culling = true

    /// A Gaussian is skipped on a sub-block when its exponent ½ dᵀ C⁻¹ d is provably above this on
    /// every pixel of the block: exp(−37) ≈ 8.5e−17, below double-precision rounding of the peak.
    public static let cullingExponent = 37.0

    /// Budget τ of the noise-weighted model error ‖w·(m_footprints − m)‖₂ of the whole patch
    /// (see "Footprints" above): 0.01 moves no parameter by more than 1% of its standard error.
    /// 0 (the default) turns footprints off (only the `cullingExponent` cut remains). Used only
    /// with `culling`. Off by default because the steps between footprint pieces stop L-BFGS from
    /// meeting its gradient test: with τ = 0.01 the stamp fitter flagged a mock-scene source
    /// "optimiser not converged" that converges with τ = 0 (TileInputTests, issue 16). Turning it
    /// on for sampling only, or tapering the cut so the model stays smooth, is what is left.
    public var footprintTolerance = 0.0

    /// Arithmetic of the pixel loop.
    /// - `double`: every pair in double precision (the kernel's default, and `optimize`'s; `sample` uses `single`
    ///   unless configured with `sample_precision: double`).
    /// - `single`: e, the model, residuals and each block's sums in float on 8 lanes (`Workspace.renderBlocks` on `SingleVector`),
    ///   with offsets taken from block centres so positions keep float's relative precision over a few pixels,
    ///   and χ² and the gradient sums accumulated in double across blocks. The error budget: per pixel the
    ///   residual is off by ≈ 6e−8 × (model / noise), so with models up to ~10⁴ σ per pixel ln L stays within
    ///   0.05 (an energy error far below the ~1 NUTS tolerates) and every gradient component within 1e−3 of its
    ///   size (a relative error that changes no trajectory's acceptance measurably). `KernelTests` checks both
    ///   against double on a bright blend at pixel ≈ 4000 (measured 0.03 and 1.8e−4, 0.1% off the truth where
    ///   χ² ≈ 10⁴); `SceneSamplingBenchmark` measures the time per gradient of each.
    public enum Precision: String, Sendable, Codable, CaseIterable {
        case double, single
    }

    /// See `Precision`. Setting `single` builds the float copies of the pixels (`KernelExposure.SinglePixels`) the
    /// first time, so kernels that stay in double (optimize, the stamp fitter's many short-lived kernels) never
    /// pay for them.
    public var precision = Precision.double {
        didSet {
            guard precision == .single else { return }
            for e in exposures.indices where exposures[e].single == nil {
                let ex = exposures[e]
                exposures[e].single = KernelExposure.SinglePixels(x: ex.x, y: ex.y, data: ex.data, weight: ex.weight)
            }
        }
    }

    /// Floating-point operations per Gaussian-pixel evaluation with gradient in the inner loop
    /// (a multiply-add counts 2; integer bit operations and blends not counted), from the
    /// operation count in `Workspace.renderBlocks` and `KernelMath.exp`: 44 to evaluate
    /// (offsets 2, quadratic form 7, exp 33, model accumulation 2) + 14 for the gradient sums.
    public static let flopsPerEvaluation = 58
    /// The same count for `Precision.single` (exp 23 instead of 33: a degree-7 polynomial), on 8 lanes.
    public static let singleFlopsPerEvaluation = 48

    /// How the pixel loop was compiled: "AVX2 + FMA" when the build enabled them (Package.swift
    /// does on x86-64), "portable" otherwise. For benchmark reports.
    public static var codeGeneration: String {
        #if TESSERA_FMA
        return "AVX2 + FMA (TESSERA_FMA, -target-cpu haswell)"
        #else
        return "portable (no FMA: TESSERA_PORTABLE set or not x86-64)"
        #endif
    }

    /// Gaussian × pixel evaluations one `evaluate` call makes with `culling` off: every
    /// image-plane Gaussian on every pixel (padding of the last block not counted). With culling
    /// on this is the un-culled upper bound; the pairs a culled call actually evaluates depend on
    /// the parameters and are returned in `KernelResult.gaussianPixelEvaluations`.
    public var gaussianPixelEvaluationsPerCall: Int {
        exposures.reduce(0) { $0 + $1.gaussianCount * $1.pixelCount }
    }

    /// Image-plane Gaussians on the busiest exposure.
    var maxGaussians: Int { exposures.map(\.gaussianCount).max() ?? 0 }

    /// - Parameters:
    ///   - patch: pixels of every exposure; `patch.exposures[e].astrometry[s]` linearises
    ///     exposure e at active source s (so its count must equal `isPoint.count`).
    ///   - sersic: the Sérsic mixture table galaxies are rendered with.
    ///   - isPoint: one entry per active source, in parameter order.
    /// - Throws: `SceneModelError` naming the exposure and field for mismatched shapes,
    ///   non-finite data or coordinates, negative or non-finite inverse errors, a band index out
    ///   of range, a non-positive calibration, or an invalid PSF.
    public init(patch: Patch, sersic: SersicMixture, isPoint: [Bool]) throws {
        guard !patch.bands.isEmpty else { throw SceneModelError.invalidArgument("patch: no bands") }
        guard !patch.exposures.isEmpty else { throw SceneModelError.invalidArgument("patch: no exposures") }
        let layout = ParameterLayout(bandCount: patch.bands.count, isPoint: isPoint)
        let b = Self.blockSize
        var out: [KernelExposure] = []
        for ex in patch.exposures {
            let name = "exposure \(ex.name)"
            guard (0..<patch.bands.count).contains(ex.band) else {
                throw SceneModelError.invalidArgument("\(name): band index \(ex.band) outside 0..<\(patch.bands.count)")
            }
            let n = ex.data.count
            for (field, values) in [("x", ex.x), ("y", ex.y), ("inverseError", ex.inverseError)] where values.count != n {
                throw SceneModelError.dimensionMismatch(what: "\(name) \(field)", expected: n, got: values.count)
            }
            guard ex.astrometry.count == isPoint.count else {
                throw SceneModelError.dimensionMismatch(what: "\(name) astrometry (one per active source)",
                                                        expected: isPoint.count, got: ex.astrometry.count)
            }
            for (field, values) in [("x", ex.x), ("y", ex.y), ("data", ex.data)] {
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw SceneModelError.invalidArgument("\(name): \(field)[\(i)] is not finite")
                }
            }
            if let i = ex.inverseError.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw SceneModelError.invalidArgument("\(name): inverseError[\(i)] = \(ex.inverseError[i]) is not finite and ≥ 0")
            }
            guard ex.calibration.isFinite, ex.calibration > 0 else {
                throw SceneModelError.invalidArgument("\(name): calibration \(ex.calibration) must be finite and positive")
            }
            try ex.psf.validate(name: name)
            for (s, a) in ex.astrometry.enumerated() {
                let v = [a.x0, a.y0, a.xi0, a.eta0, a.dxdXi, a.dxdEta, a.dydXi, a.dydEta]
                guard v.allSatisfy(\.isFinite), a.dxdXi * a.dydEta - a.dxdEta * a.dydXi != 0 else {
                    throw SceneModelError.invalidArgument("\(name): astrometry of source \(s) is not finite or has a singular Jacobian")
                }
            }
            let blocks = (n + b - 1) / b
            let padded = blocks * b
            let order = Self.tileOrder(x: ex.x, y: ex.y)
            let xs = order.map { ex.x[$0] }, ys = order.map { ex.y[$0] }
            func pad(_ v: [Double], _ fill: Double) -> [Double] { v + [Double](repeating: fill, count: padded - n) }
            // Boxes of the sub-blocks; one of padding only gets an empty box (never evaluated when culling).
            let sb = Self.subBlockSize
            var boxes = [Double](repeating: 0, count: 4 * padded / sb)
            for k in 0..<(padded / sb) {
                let r = min(n, k * sb)..<min(n, (k + 1) * sb)
                boxes[4 * k] = xs[r].min() ?? .infinity; boxes[4 * k + 1] = xs[r].max() ?? -.infinity
                boxes[4 * k + 2] = ys[r].min() ?? .infinity; boxes[4 * k + 3] = ys[r].max() ?? -.infinity
            }
            let gaussians = isPoint.reduce(0) { $0 + ($1 ? 1 : sersic.componentCount) } * ex.psf.components.count
            // Padding pixels repeat the block's last pixel position (so they stay inside its box)
            // and have zero weight: their residual is 0 and they add nothing to χ² or the gradient.
            let px = pad(xs, xs.last ?? 0), py = pad(ys, ys.last ?? 0)
            let data = pad(order.map { ex.data[$0] }, 0), weight = pad(order.map { ex.inverseError[$0] }, 0)
            out.append(KernelExposure(name: ex.name, band: ex.band, pixelCount: n, blockCount: blocks,
                                      x: px, y: py, data: data, weight: weight, single: nil,
                                      order: order, boxes: boxes,
                                      bounds: n == 0 ? [0, 0, 0, 0] : [xs.min()!, xs.max()!, ys.min()!, ys.max()!],
                                      maxWeight: ex.inverseError.max() ?? 0,
                                      psf: ex.psf.components, calibration: ex.calibration,
                                      astrometry: ex.astrometry, gaussianCount: gaussians))
        }
        self.layout = layout
        self.sersic = sersic
        self.exposures = out
    }

    /// The kernel's pixel order: patch pixel indices sorted by the Z (Morton) code of their
    /// integer pixel coordinates relative to the exposure's minimum (ties keep patch order), so
    /// runs of 64 consecutive pixels are compact tiles whatever order the caller gave.
    static func tileOrder(x: [Double], y: [Double]) -> [Int] {
        guard let xmin = x.min(), let ymin = y.min() else { return [] }
        func spread(_ v: UInt64) -> UInt64 {  // bits 0…31 of v to the even bits
            var v = v & 0xFFFF_FFFF
            v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF
            v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF
            v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F
            v = (v | (v << 2)) & 0x3333_3333_3333_3333
            v = (v | (v << 1)) & 0x5555_5555_5555_5555
            return v
        }
        let limit = Double(UInt32.max)
        let codes = zip(x, y).map { px, py -> UInt64 in
            let i = UInt64(min((px - xmin).rounded(.down), limit)), j = UInt64(min((py - ymin).rounded(.down), limit))
            return spread(i) | (spread(j) << 1)
        }
        return codes.indices.sorted { codes[$0] != codes[$1] ? codes[$0] < codes[$1] : $0 < $1 }
    }

    // MARK: Parameter vectors

    /// The parameter vector of `sources` (one per active source, in order, fluxes in band order).
    public func parameters(of sources: [PatchSource]) -> [Double] {
        precondition(sources.count == layout.sourceCount, "expected \(layout.sourceCount) sources, got \(sources.count)")
        var p = [Double](repeating: 0, count: layout.count)
        for (s, src) in sources.enumerated() {
            precondition(src.flux.count == layout.bandCount, "source \(s): expected \(layout.bandCount) fluxes, got \(src.flux.count)")
            let o = layout.offsets[s], nb = layout.bandCount
            for b in 0..<nb { p[o + b] = src.flux[b] }
            p[o + nb] = src.xi
            p[o + nb + 1] = src.eta
            if !layout.isPoint[s] {
                p[o + nb + 2] = src.q; p[o + nb + 3] = src.pa; p[o + nb + 4] = src.sersic; p[o + nb + 5] = src.rhalf
            }
        }
        return p
    }

    /// The sources a parameter vector describes (point sources get the default shape fields).
    public func sources(from parameters: [Double]) -> [PatchSource] {
        precondition(parameters.count == layout.count, "expected \(layout.count) parameters, got \(parameters.count)")
        let nb = layout.bandCount
        return (0..<layout.sourceCount).map { s in
            let o = layout.offsets[s]
            let flux = Array(parameters[o..<(o + nb)])
            if layout.isPoint[s] {
                return PatchSource(xi: parameters[o + nb], eta: parameters[o + nb + 1], flux: flux, isPoint: true)
            }
            return PatchSource(xi: parameters[o + nb], eta: parameters[o + nb + 1], flux: flux,
                               q: parameters[o + nb + 2], pa: parameters[o + nb + 3],
                               sersic: parameters[o + nb + 4], rhalf: parameters[o + nb + 5], isPoint: false)
        }
    }

    // MARK: Evaluation

    /// ln L, χ² and the exact gradient of ln L at `parameters`.
    /// - Throws: `SceneModelError` when the vector has the wrong length or a non-finite entry.
    public func evaluate(_ parameters: [Double]) throws -> KernelResult {
        try check(parameters)
        let amps = sersicAmplitudes(parameters)
        var work = Workspace(gaussians: maxGaussians, precision: precision)
        var gradient = [Double](repeating: 0, count: layout.count)
        var chi2 = 0.0
        var evaluations = 0
        for ex in exposures {
            work.fill(ex, parameters: parameters, layout: layout, sersic: sersic, amplitudes: amps, footprintBudget: footprintBudget)
            chi2 += work.render(ex, gradient: true, culling: culling, model: nil, precision: precision, evaluations: &evaluations)
            work.chainRule(ex, parameters: parameters, layout: layout, sersic: sersic, amplitudes: amps, into: &gradient)
        }
        return KernelResult(logLikelihood: -0.5 * chi2, chi2: chi2, gradient: gradient, gaussianPixelEvaluations: evaluations)
    }

    /// The model (counts) of every exposure at its patch pixels, in the patch's pixel order.
    /// The parameter vector must have `layout.count` finite entries.
    public func modelImages(_ parameters: [Double]) -> [[Double]] {
        precondition(parameters.count == layout.count, "expected \(layout.count) parameters, got \(parameters.count)")
        let amps = sersicAmplitudes(parameters)
        var work = Workspace(gaussians: maxGaussians, precision: precision)
        return exposures.map { ex in
            work.fill(ex, parameters: parameters, layout: layout, sersic: sersic, amplitudes: amps, footprintBudget: footprintBudget)
            var model = [Double](repeating: 0, count: ex.blockCount * Self.blockSize)
            var evaluations = 0
            work.renderModel(ex, culling: culling, precision: precision, into: &model, evaluations: &evaluations)
            var out = [Double](repeating: 0, count: ex.pixelCount)
            for (i, j) in ex.order.enumerated() { out[j] = model[i] }
            return out
        }
    }

    /// ε, each Gaussian's share of `footprintTolerance` (0: footprints off).
    var footprintBudget: Double {
        let total = exposures.reduce(0) { $0 + $1.gaussianCount }
        return footprintTolerance > 0 && total > 0 ? footprintTolerance / Double(total) : 0
    }

    func check(_ parameters: [Double]) throws {
        guard parameters.count == layout.count else {
            throw SceneModelError.dimensionMismatch(what: "scene kernel parameters", expected: layout.count, got: parameters.count)
        }
        if let i = parameters.firstIndex(where: { !$0.isFinite }) {
            throw SceneModelError.invalidArgument("scene kernel parameter \(i) is \(parameters[i])")
        }
    }

    /// a_k(n) and da_k/dn of every source (zeros for point sources), flattened source-major.
    func sersicAmplitudes(_ parameters: [Double]) -> (values: [Double], dn: [Double]) {
        let k = sersic.componentCount, nb = layout.bandCount
        var values = [Double](repeating: 0, count: layout.sourceCount * k)
        var dn = values
        var v = [Double](repeating: 0, count: k), d = v
        for s in 0..<layout.sourceCount where !layout.isPoint[s] {
            sersic.amplitudes(sersic: parameters[layout.offsets[s] + nb + 4], values: &v, dn: &d)
            for c in 0..<k { values[s * k + c] = v[c]; dn[s * k + c] = d[c] }
        }
        return (values, dn)
    }
}

/// One exposure prepared for the kernel: pixel arrays in tile order (`SceneKernel.tileOrder`),
/// padded to whole blocks.
struct KernelExposure: Sendable {
    var name: String
    var band: Int
    var pixelCount: Int
    var blockCount: Int
    var x: [Double]
    var y: [Double]
    var data: [Double]
    var weight: [Double]
    /// The same pixels for the single-precision loop; built when the kernel's `precision` is set to `single`.
    var single: SinglePixels?
    /// order[i] = the patch's index of the kernel's pixel i.
    var order: [Int]
    /// Per sub-block (`SceneKernel.subBlockSize` pixels): x min, x max, y min, y max of its
    /// pixel centres (an empty box, min = +∞, for a sub-block of padding only).
    var boxes: [Double]
    /// x min, x max, y min, y max of all the exposure's pixel centres.
    var bounds: [Double]
    /// The largest inverse error (1/σ, 1/counts) of the exposure's pixels: footprints are sized
    /// against the exposure's smallest noise.
    var maxWeight: Double
    var psf: [GaussianComponent]
    var calibration: Double
    var astrometry: [LocalAstrometry]
    var gaussianCount: Int

    /// Pixels as floats for `Precision.single`: x and y relative to their block's centre (the middle of the
    /// block's bounding box, kept in double in `centres`, x and y per block), so that float keeps ~1e−7 pixel
    /// on offsets of a few pixels wherever the patch lies on the exposure; data and weights as they are.
    struct SinglePixels: Sendable {
        var x: [Float], y: [Float], data: [Float], weight: [Float]
        var centres: [Double]

        init(x: [Double], y: [Double], data: [Double], weight: [Double]) {
            let bs = SceneKernel.blockSize, blocks = x.count / bs
            var centres = [Double](repeating: 0, count: 2 * blocks)
            var fx = [Float](repeating: 0, count: x.count), fy = fx
            for b in 0..<blocks {
                let r = (b * bs)..<((b + 1) * bs)
                let cx = 0.5 * (x[r].min()! + x[r].max()!), cy = 0.5 * (y[r].min()! + y[r].max()!)
                centres[2 * b] = cx
                centres[2 * b + 1] = cy
                for i in r { fx[i] = Float(x[i] - cx); fy[i] = Float(y[i] - cy) }
            }
            self.x = fx
            self.y = fy
            self.data = data.map { Float($0) }
            self.weight = weight.map { Float($0) }
            self.centres = centres
        }
    }
}

/// The per-source geometry on one exposure that both the setup and the chain rule need.
struct SourceGeometry {
    /// J = d(pixel)/d(ξ, η).
    var j00, j01, j10, j11: Double
    /// Pixel position of the source centre.
    var px, py: Double
    /// sin pa, cos pa, q.
    var sn, cs, q: Double
    /// Pixel-frame shape J M Jᵀ with M = u uᵀ + q² v vᵀ (so Σ_pixel,k = (r_k rhalf)² · this).
    var pxx, pxy, pyy: Double

    init(astrometry a: LocalAstrometry, xi: Double, eta: Double, q: Double, pa: Double, isPoint: Bool) {
        j00 = a.dxdXi; j01 = a.dxdEta; j10 = a.dydXi; j11 = a.dydEta
        let p = a.pixel(xi: xi, eta: eta)
        px = p.x; py = p.y
        self.q = q
        sn = isPoint ? 0 : sin(pa); cs = isPoint ? 0 : cos(pa)
        let q2 = q * q
        let mxx = sn * sn + q2 * cs * cs, mxy = sn * cs * (1 - q2), myy = cs * cs + q2 * sn * sn
        // J M Jᵀ
        let a00 = j00 * mxx + j01 * mxy, a01 = j00 * mxy + j01 * myy
        let a10 = j10 * mxx + j11 * mxy, a11 = j10 * mxy + j11 * myy
        pxx = isPoint ? 0 : a00 * j00 + a01 * j01
        pxy = isPoint ? 0 : a00 * j10 + a01 * j11
        pyy = isPoint ? 0 : a10 * j10 + a11 * j11
    }
}

/// Per-call buffers: Gaussian parameters, gradient sums, the block scratch. Allocated once per
/// `evaluate` call and reused across exposures; nothing is allocated inside the pixel loops.
struct Workspace {
    /// `stride` doubles per Gaussian: centre x, y; −½F_xx, −F_xy, −½F_yy (F = inverse covariance);
    /// norm N = A/(2π√det C); the culling radius² 2·E_g·λ_max(C) (pixels²: beyond it from the
    /// centre the exponent exceeds E_g; −1 for a Gaussian dropped everywhere); 1 if the whole
    /// exposure is within that radius (never culled there), else 0; the cut-off exponent E_g
    /// (`cullingExponent`, or the footprint's, see `SceneKernel`).
    var gaussians: [Double]
    static let stride = 9
    /// The Gaussians evaluated on the current block: index << 4 | first sub-block << 2 | last sub-block.
    var active: [Int32]
    /// 6 sums per Gaussian: Σ r e, Σ r e dx, Σ r e dy, Σ r e dx², Σ r e dx dy, Σ r e dy², each
    /// kept as one vector of per-lane partial sums (reduced in `chainRule`, so the hot loop has no
    /// horizontal reduction, which LLVM would otherwise turn into scalar code).
    var sums: [Double]
    /// e of every Gaussian on the current block, Gaussian-major.
    var scratch: [Double]
    var modelBlock: [Double]
    var residualBlock: [Double]
    /// The same three buffers for `Precision.single` (only the precision's own buffers are allocated; the others
    /// stay empty).
    var singleScratch: [Float]
    var singleModel: [Float]
    var singleResidual: [Float]
    var count = 0

    init(gaussians n: Int, precision: SceneKernel.Precision = .double) {
        let blockBuffer = max(n, 1) * SceneKernel.blockSize, double = precision == .double
        gaussians = [Double](repeating: 0, count: Self.stride * max(n, 1))
        active = [Int32](repeating: 0, count: max(n, 1))
        sums = [Double](repeating: 0, count: 6 * KernelVector.scalarCount * max(n, 1))
        scratch = [Double](repeating: 0, count: double ? blockBuffer : 0)
        modelBlock = [Double](repeating: 0, count: double ? SceneKernel.blockSize : 0)
        residualBlock = modelBlock
        singleScratch = [Float](repeating: 0, count: double ? 0 : blockBuffer)
        singleModel = [Float](repeating: 0, count: double ? 0 : SceneKernel.blockSize)
        singleResidual = singleModel
    }

    static let pixelVariance = 1.0 / 12.0

    /// Image-plane Gaussians of every active source on exposure `ex`, in source, Sérsic component, PSF component order.
    /// `footprintBudget` is ε of `SceneKernel`'s footprints (0: cut every Gaussian at `cullingExponent`).
    mutating func fill(_ ex: KernelExposure, parameters p: [Double], layout: ParameterLayout, sersic: SersicMixture,
                       amplitudes: (values: [Double], dn: [Double]), footprintBudget: Double = 0) {
        let nb = layout.bandCount, nk = sersic.componentCount
        var g = 0
        for s in 0..<layout.sourceCount {
            let o = layout.offsets[s], point = layout.isPoint[s]
            let geo = SourceGeometry(astrometry: ex.astrometry[s], xi: p[o + nb], eta: p[o + nb + 1],
                                     q: point ? 1 : p[o + nb + 2], pa: point ? 0 : p[o + nb + 3], isPoint: point)
            let counts = p[o + ex.band] * ex.calibration
            let rhalf = point ? 0 : p[o + nb + 5]
            for k in 0..<(point ? 1 : nk) {
                let ak = point ? 1 : amplitudes.values[s * nk + k]
                let r = point ? 0 : sersic.radii[k] * rhalf
                let s2 = r * r
                for c in ex.psf {
                    let cxx = s2 * geo.pxx + c.cxx + Self.pixelVariance
                    let cxy = s2 * geo.pxy + c.cxy
                    let cyy = s2 * geo.pyy + c.cyy + Self.pixelVariance
                    let det = cxx * cyy - cxy * cxy
                    let base = Self.stride * g
                    gaussians[base] = geo.px + c.x
                    gaussians[base + 1] = geo.py + c.y
                    gaussians[base + 2] = -0.5 * cyy / det
                    gaussians[base + 3] = cxy / det
                    gaussians[base + 4] = -0.5 * cxx / det
                    gaussians[base + 5] = counts * ak * c.amplitude / (2 * Double.pi * det.squareRoot())
                    let half = 0.5 * (cxx - cyy)
                    let lambdaMax = 0.5 * (cxx + cyy) + (half * half + cxy * cxy).squareRoot()
                    var cut = SceneKernel.cullingExponent
                    if footprintBudget > 0 {
                        // E_g = ln(w_max |N| √(2π√det C) / ε); see "Footprints" on SceneKernel.
                        let scale = ex.maxWeight * abs(gaussians[base + 5]) * (2 * Double.pi * det.squareRoot()).squareRoot()
                        cut = min(cut, Foundation.log(scale / footprintBudget))
                        if !(cut >= 0) { cut = -1 }  // below the budget everywhere (also N = 0): dropped
                    }
                    gaussians[base + 8] = cut
                    let r2 = cut < 0 ? -1 : 2 * cut * lambdaMax
                    gaussians[base + 6] = r2
                    // 1 when every pixel of the exposure is within the culling radius: the Gaussian
                    // is then evaluated on every block without per-block tests.
                    let fx = max(abs(ex.bounds[0] - gaussians[base]), abs(ex.bounds[1] - gaussians[base]))
                    let fy = max(abs(ex.bounds[2] - gaussians[base + 1]), abs(ex.bounds[3] - gaussians[base + 1]))
                    gaussians[base + 7] = cut >= 0 && fx * fx + fy * fy <= r2 ? 1 : 0
                    g += 1
                }
            }
        }
        count = g
    }

    /// The minimum of the exponent E(dx, dy) = a dx² + b dx dy + c dy² (a, c > 0, 4ac > b²:
    /// ½ dᵀ F d with a = ½F_xx, b = F_xy, c = ½F_yy) over the box [x0, x1] × [y0, y1] of offsets
    /// from the centre. E is convex, so the minimum is 0 with the centre inside the box and is
    /// otherwise on an edge, where E is a 1-D quadratic minimised by clamping its vertex. An empty
    /// box (x0 > x1) gives +∞.
    @inline(__always)
    static func minimumExponent(a: Double, b: Double, c: Double, x0: Double, x1: Double, y0: Double, y1: Double) -> Double {
        guard x0 <= x1, y0 <= y1 else { return .infinity }
        if x0 <= 0, x1 >= 0, y0 <= 0, y1 >= 0 { return 0 }
        func e(_ dx: Double, _ dy: Double) -> Double { (a * dx + b * dy) * dx + c * dy * dy }
        func onX(_ x: Double) -> Double { e(x, min(max(-b * x / (2 * c), y0), y1)) }  // edge dx = x
        func onY(_ y: Double) -> Double { e(min(max(-b * y / (2 * a), x0), x1), y) }  // edge dy = y
        return min(min(onX(x0), onX(x1)), min(onY(y0), onY(y1)))
    }

    /// Adds ∂ ln L/∂θ from the sums of `render` on exposure `ex` to `gradient`.
    ///
    /// For G = N e, N = A/(2π√det C), e = exp(−½ dᵀF d), d = pixel − centre, F = C⁻¹ and
    /// weighted residual r: ∂lnL/∂A = Σ r e/(2π√det C); ∂lnL/∂centre = N F T₁;
    /// ∂lnL/∂C = ½ N (F T₂ F − T₀ F), with T₀ = Σ r e, T₁ = Σ r e d, T₂ = Σ r e d dᵀ. Then
    /// C = J Σ_k Jᵀ + P_j + I/12 gives ∂lnL/∂Σ_k = Jᵀ (∂lnL/∂C) J, contracted with ∂Σ_k/∂(q, pa, rhalf);
    /// the amplitude carries flux, calibration, a_k(n) and ψ_j; the centre carries J.
    func chainRule(_ ex: KernelExposure, parameters p: [Double], layout: ParameterLayout, sersic: SersicMixture,
                   amplitudes: (values: [Double], dn: [Double]), into gradient: inout [Double]) {
        let nb = layout.bandCount, nk = sersic.componentCount
        let w = KernelVector.scalarCount
        func lanes(_ i: Int) -> Double {
            var t = 0.0
            for l in 0..<w { t += sums[i * w + l] }
            return t
        }
        var g = 0
        for s in 0..<layout.sourceCount {
            let o = layout.offsets[s], point = layout.isPoint[s]
            let geo = SourceGeometry(astrometry: ex.astrometry[s], xi: p[o + nb], eta: p[o + nb + 1],
                                     q: point ? 1 : p[o + nb + 2], pa: point ? 0 : p[o + nb + 3], isPoint: point)
            let flux = p[o + ex.band], cal = ex.calibration
            let rhalf = point ? 0 : p[o + nb + 5]
            var gFlux = 0.0, gX = 0.0, gY = 0.0, gQ = 0.0, gPA = 0.0, gN = 0.0, gR = 0.0
            // ∂Σ_k/∂θ = r_k² × these (times rhalf² for q and pa, 2 rhalf for rhalf), as (xx, xy, yy).
            let q = geo.q, sn = geo.sn, cs = geo.cs, q2 = q * q
            let dq = (2 * q * cs * cs, -2 * q * sn * cs, 2 * q * sn * sn)
            let dpa = ((1 - q2) * 2 * sn * cs, (1 - q2) * (cs * cs - sn * sn), -(1 - q2) * 2 * sn * cs)
            let m = (sn * sn + q2 * cs * cs, sn * cs * (1 - q2), cs * cs + q2 * sn * sn)
            for k in 0..<(point ? 1 : nk) {
                let ak = point ? 1 : amplitudes.values[s * nk + k]
                let dak = point ? 0 : amplitudes.dn[s * nk + k]
                let rk = point ? 0 : sersic.radii[k]
                let s2 = rk * rk * rhalf * rhalf
                var gSxx = 0.0, gSxy = 0.0, gSyy = 0.0  // ∂lnL/∂Σ_k (sky), symmetric-matrix entries
                var gAmp = 0.0  // Σ_j ∂lnL/∂A · ψ_j
                for c in ex.psf {
                    let cxx = s2 * geo.pxx + c.cxx + Self.pixelVariance
                    let cxy = s2 * geo.pxy + c.cxy
                    let cyy = s2 * geo.pyy + c.cyy + Self.pixelVariance
                    let det = cxx * cyy - cxy * cxy
                    let fa = cyy / det, fb = -cxy / det, fc = cxx / det
                    let norm0 = 1 / (2 * Double.pi * det.squareRoot())
                    let n = flux * cal * ak * c.amplitude * norm0
                    let t = 6 * g
                    let t0 = lanes(t), tx = lanes(t + 1), ty = lanes(t + 2)
                    let txx = lanes(t + 3), txy = lanes(t + 4), tyy = lanes(t + 5)
                    gAmp += norm0 * t0 * c.amplitude
                    let gmx = n * (fa * tx + fb * ty), gmy = n * (fb * tx + fc * ty)
                    gX += gmx * geo.j00 + gmy * geo.j10
                    gY += gmx * geo.j01 + gmy * geo.j11
                    if point { g += 1; continue }
                    // ∂lnL/∂C = ½ N (F T₂ F − T₀ F)
                    let k00 = fa * txx + fb * txy, k01 = fa * txy + fb * tyy
                    let k10 = fb * txx + fc * txy, k11 = fb * txy + fc * tyy
                    let ga = 0.5 * n * (k00 * fa + k01 * fb - t0 * fa)
                    let gb = 0.5 * n * (k00 * fb + k01 * fc - t0 * fb)
                    let gc = 0.5 * n * (k10 * fb + k11 * fc - t0 * fc)
                    // Jᵀ G J
                    let h00 = ga * geo.j00 + gb * geo.j10, h01 = ga * geo.j01 + gb * geo.j11
                    let h10 = gb * geo.j00 + gc * geo.j10, h11 = gb * geo.j01 + gc * geo.j11
                    gSxx += geo.j00 * h00 + geo.j10 * h10
                    gSxy += geo.j00 * h01 + geo.j10 * h11
                    gSyy += geo.j01 * h01 + geo.j11 * h11
                    g += 1
                }
                gFlux += gAmp * cal * ak
                if point { continue }
                gN += gAmp * cal * flux * dak
                let r2 = rk * rk
                func contract(_ d: (Double, Double, Double)) -> Double { gSxx * d.0 + 2 * gSxy * d.1 + gSyy * d.2 }
                gQ += s2 * contract(dq)
                gPA += s2 * contract(dpa)
                gR += 2 * r2 * rhalf * contract(m)
            }
            gradient[o + ex.band] += gFlux
            gradient[o + nb] += gX
            gradient[o + nb + 1] += gY
            if !point {
                gradient[o + nb + 2] += gQ
                gradient[o + nb + 3] += gPA
                gradient[o + nb + 4] += gN
                gradient[o + nb + 5] += gR
            }
        }
    }
}

extension Patch {
    /// Data minus the model of fixed (non-active) sources, so the active sources are fitted to
    /// the residual. `astrometry[e][s]` linearises exposure e at fixed source s; the returned
    /// patch keeps this patch's astrometry (that of the active sources).
    /// - Throws: `SceneModelError` for mismatched shapes, a flux vector of the wrong length,
    ///   non-finite source values, or any error of `SceneKernel.init`.
    public func subtracting(_ sources: [PatchSource], astrometry: [[LocalAstrometry]], sersic: SersicMixture) throws -> Patch {
        guard astrometry.count == exposures.count else {
            throw SceneModelError.dimensionMismatch(what: "fixed-source astrometry (one list per exposure)",
                                                    expected: exposures.count, got: astrometry.count)
        }
        if sources.isEmpty { return self }
        for (s, src) in sources.enumerated() where src.flux.count != bands.count {
            throw SceneModelError.dimensionMismatch(what: "fixed source \(s) fluxes", expected: bands.count, got: src.flux.count)
        }
        var fixed = self
        for e in exposures.indices { fixed.exposures[e].astrometry = astrometry[e] }
        let kernel = try SceneKernel(patch: fixed, sersic: sersic, isPoint: sources.map(\.isPoint))
        let parameters = kernel.parameters(of: sources)
        try kernel.check(parameters)
        let models = kernel.modelImages(parameters)
        var out = self
        for e in exposures.indices {
            out.exposures[e].data = zip(exposures[e].data, models[e]).map { $0 - $1 }
        }
        return out
    }
}
