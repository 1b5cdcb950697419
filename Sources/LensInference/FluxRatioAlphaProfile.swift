import RealModule

/// A flux-ratio-only estimate of α_sps, for measuring what ignoring microlensing does to it: each lens's halo
/// mass, shear and source position are held at given values (a mock's truth), α_sps is scanned, and at each α the
/// image fluxes alone are scored with the source flux profiled out — with the microlensing table, or with
/// Gaussian flux errors only.
///
/// With the halo fixed, α_sps changes the stellar convergence and so every image's magnification; since the
/// source flux is profiled, only flux *ratios* carry information. This isolates the flux-ratio channel that
/// microlensing corrupts; it is not the hierarchical estimate (that samples the halo and source too).
///
/// Profiling: without microlensing the best source flux is analytic, F_s = Σ F_i |μ_i| / σ_i² / Σ μ_i² / σ_i²;
/// with the table it is the maximum over a grid of log F_s (`logFluxHalfWidth` about the given value, steps of
/// `logFluxStep`) refined by a parabola through the best three points.
public struct FluxRatioAlphaProfile: Sendable {
    public var logFluxHalfWidth: Double = 0.6
    public var logFluxStep: Double = 0.02

    public init() {}

    /// max over F_s of the flux log-likelihood of one lens at α (−∞ if the image count changes).
    public func profileLogLikelihood(_ like: LensLikelihood, parameters p: LensParameters, alphaSPS: Double,
                                     microlensing useTable: Bool) throws -> Double {
        guard let (images, _) = like.matchedImages(p, alphaSPS: alphaSPS) else { return -.infinity }
        let obs = like.lens.images
        if !useTable {
            var num = 0.0, den = 0.0
            for (img, o) in zip(images, obs) {
                let m = abs(img.magnification), w = 1 / (o.fluxError * o.fluxError)
                num += o.flux * m * w
                den += m * m * w
            }
            return try like.fluxLogLikelihood(images, logSourceFlux: Double.log10(num / den), microlensing: false)
        }
        guard let ml = like.microlensing else {
            throw LensInferenceError.invalidLens(lens: like.lens.id, reason: "microlensing requested but no table given")
        }
        var pdfs: [MicrolensedFlux.ImagePDF] = []
        for (i, img) in images.enumerated() {
            let gamma = (img.gamma1 * img.gamma1 + img.gamma2 * img.gamma2).squareRoot()
            pdfs.append(try ml.pdf(kappa: img.kappa, gamma: gamma, s: img.smoothFraction, sourceSize: like.sourceSize,
                                   lens: like.lens.id, image: i))
        }
        func score(_ logF: Double) -> Double {
            let fs = Double.exp10(logF)
            var l = 0.0
            for i in obs.indices {
                l += Double.log(ml.likelihood(flux: obs[i].flux, sigma: obs[i].fluxError,
                                              macroFlux: fs * abs(images[i].magnification), pdf: pdfs[i]))
            }
            return l
        }
        let n = Int((2 * logFluxHalfWidth / logFluxStep).rounded())
        let grid = (0...n).map { p.logSourceFlux - logFluxHalfWidth + Double($0) * logFluxStep }
        let values = grid.map(score)
        guard let k = values.indices.max(by: { values[$0] < values[$1] }), values[k].isFinite else { return -.infinity }
        guard k > 0, k < n else { return values[k] }
        let (a, b, c) = (values[k - 1], values[k], values[k + 1])
        let denom = a - 2 * b + c
        guard denom < 0 else { return b }
        let t = 0.5 * (a - c) / denom  // vertex offset in steps, |t| ≤ 1/2
        return max(b, score(grid[k] + t * logFluxStep))
    }

    /// The summed profile log-likelihood of a lens set on a uniform α grid, and what it says about α_sps.
    public struct Scan: Sendable {
        public let alphas: [Double]
        /// Σ over the used lenses of the profile log-likelihood at each α.
        public let total: [Double]
        /// The maximum (parabolic refinement on the grid).
        public let best: Double
        /// The grid range where total ≥ max − ½ (a 68% interval; it ends at the grid's ends if it reaches them).
        public let interval: ClosedRange<Double>
        /// max − total at grid point `index` (e.g. the truth): > 2 excludes it at about 95%.
        public func drop(at index: Int) -> Double { total.max()! - total[index] }
    }

    /// Σ over lenses of the profile log-likelihood at each α of `alphas` (a uniform grid), with the table and with
    /// Gaussian flux errors only. A lens with an image outside the table at some α of the grid is left out of both
    /// (so the two use the same lenses) and listed in `skipped`.
    public func scan(_ lenses: [(LensLikelihood, LensParameters)], alphas: [Double]) throws
        -> (withTable: Scan, withoutMicrolensing: Scan, used: Int, skipped: [String]) {
        var table = [Double](repeating: 0, count: alphas.count), gauss = table
        var skipped: [String] = [], used = 0
        for (like, p) in lenses {
            var t: [Double] = [], g: [Double] = []
            do {
                for a in alphas {
                    t.append(try profileLogLikelihood(like, parameters: p, alphaSPS: a, microlensing: true))
                    g.append(try profileLogLikelihood(like, parameters: p, alphaSPS: a, microlensing: false))
                }
            } catch LensInferenceError.outsideTable {
                skipped.append(like.lens.id)
                continue
            }
            used += 1
            for j in alphas.indices { table[j] += t[j]; gauss[j] += g[j] }
        }
        return (try Self.summarise(alphas, table), try Self.summarise(alphas, gauss), used, skipped)
    }

    static func summarise(_ alphas: [Double], _ total: [Double]) throws -> Scan {
        guard let k = total.indices.max(by: { total[$0] < total[$1] }), total[k].isFinite else {
            throw LensInferenceError.invalidParameter(name: "alphas", value: .nan, allowed: "a grid where the lenses' likelihood is finite")
        }
        var best = alphas[k]
        if k > 0, k < alphas.count - 1 {
            let (a, b, c) = (total[k - 1], total[k], total[k + 1])
            let denom = a - 2 * b + c
            if denom < 0 { best += 0.5 * (a - c) / denom * (alphas[k + 1] - alphas[k]) }
        }
        let inside = alphas.indices.filter { total[$0] >= total[k] - 0.5 }
        return Scan(alphas: alphas, total: total, best: best, interval: alphas[inside.first!]...alphas[inside.last!])
    }
}
