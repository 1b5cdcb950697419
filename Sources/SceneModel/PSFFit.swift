import Foundation

/// A pixelised PSF image: `values[y * width + x]` is the value of pixel (x, y), 0-based, with the
/// centre of pixel (0, 0) at (0, 0), x the column (FITS axis 1) and y the row (FITS axis 2), as in
/// `SceneModel`'s conventions. Values are fluxes per pixel (any normalisation; the fit normalises).
public struct PSFImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let values: [Double]

    public init(width: Int, height: Int, values: [Double]) throws {
        guard width > 0, height > 0 else {
            throw SceneModelError.invalidArgument("PSF image: empty (\(width) × \(height) pixels)")
        }
        guard values.count == width * height else {
            throw SceneModelError.dimensionMismatch(what: "PSF image \(width) × \(height) pixels",
                                                    expected: width * height, got: values.count)
        }
        self.width = width; self.height = height; self.values = values
    }

    public subscript(x: Int, y: Int) -> Double { values[y * width + x] }
}

/// Options of `PSFFitter`.
public struct PSFFitOptions: Sendable, Equatable {
    /// Number of Gaussian components K (≥ 1).
    public var components: Int
    /// The PSF centre in pixel coordinates; nil = the flux-weighted centroid of the image.
    /// Component means are stored relative to it.
    public var centre: (x: Double, y: Double)?
    /// Maximum EM iterations.
    public var maxIterations: Int
    /// EM stops when the weighted mean log-likelihood changes by less than this between iterations.
    public var tolerance: Double
    /// Smallest eigenvalue (pixels²) of a stored, *intrinsic* component covariance. EM keeps every
    /// pixel-convolved covariance's eigenvalues ≥ 1/12 + this, so no component collapses onto one
    /// pixel and the intrinsic covariance stays positive definite.
    public var minimumVariance: Double
    /// After EM, refine by least squares (Levenberg–Marquardt on Σᵢ (dᵢ − mᵢ)² over every pixel,
    /// negative ones included, with mᵢ the renderer's model: Σₖ Aₖ N(rᵢ; μₖ, Σₖ + I/12)). Useful for
    /// noisy images, whose negative pixels EM ignores, and for profiles that no K-mixture matches,
    /// where it trades EM's exact second moments for a smaller pixel residual.
    public var refine: Bool
    public var maxRefineIterations: Int

    public init(components: Int, centre: (x: Double, y: Double)? = nil, maxIterations: Int = 2000,
                tolerance: Double = 1e-11, minimumVariance: Double = 1e-3, refine: Bool = false,
                maxRefineIterations: Int = 200) {
        self.components = components; self.centre = centre; self.maxIterations = maxIterations
        self.tolerance = tolerance; self.minimumVariance = minimumVariance
        self.refine = refine; self.maxRefineIterations = maxRefineIterations
    }

    public static func == (a: PSFFitOptions, b: PSFFitOptions) -> Bool {
        a.components == b.components && a.centre?.x == b.centre?.x && a.centre?.y == b.centre?.y
            && a.maxIterations == b.maxIterations && a.tolerance == b.tolerance && a.minimumVariance == b.minimumVariance
            && a.refine == b.refine && a.maxRefineIterations == b.maxRefineIterations
    }
}

/// The result of a PSF fit: the mixture to store plus how well it reproduces the image.
public struct PSFFitResult: Sendable, Equatable {
    /// Intrinsic PSF (pixel response removed): amplitudes sum to 1, means relative to `centre`,
    /// covariances in pixels². Rendering it the renderer's way (covariance + I/12, evaluated at
    /// pixel centres) reproduces the image.
    public var mixture: PSFMixture
    /// The centre (pixel coordinates) the means are relative to.
    public var centreX: Double
    public var centreY: Double
    /// Σᵢ |dᵢ − mᵢ| / Σᵢ |dᵢ| over the image, with dᵢ the pixel values and mᵢ the fitted model
    /// (mixture with covariance + I/12 at the pixel centres, scaled by the image's positive flux).
    public var residualFraction: Double
    /// EM iterations run, and whether the tolerance was reached before `maxIterations`.
    public var iterations: Int
    public var converged: Bool
    /// Accepted Levenberg–Marquardt steps of the refinement (0 without `refine`).
    public var refineIterations: Int
    /// Number of components whose intrinsic covariance had an eigenvalue raised to `minimumVariance`
    /// (the image is narrower than the pixel response allows; the PSF is undersampled there).
    public var clampedComponents: Int
    /// Radii (pixels, about `centreX`, `centreY`) at which `missingFluxBeyond` is measured.
    public var missingFluxRadii: [Double] = PSFFitter.missingFluxRadii
    /// Per radius R: (image flux at r > R − mixture flux at r > R) / image flux, with the mixture
    /// scaled to the image's flux as in `residualFraction` and its flux beyond the image's edge
    /// counted as beyond R. Positive: the mixture misses wing flux the image has (a model
    /// convolved with it puts that light too close in); negative: the mixture has too much there.
    public var missingFluxBeyond: [Double] = []
    /// The entry of `missingFluxBeyond` largest in absolute value (signed): the headline
    /// "fraction of the PSF's flux the mixture misses" that `fit-psf` logs and stores.
    public var missingFluxFraction: Double = .nan
}

/// Fits a Gaussian mixture to a pixelised PSF image by expectation–maximisation on the pixel
/// values as weights.
///
/// Why this model: a pixel value is the PSF integrated over the pixel, i.e. (PSF ⊗ box)(rᵢ) at the
/// pixel centre rᵢ. EM on the pixel values fits a mixture G ≈ PSF ⊗ box. The scene renderer
/// approximates the box by a Gaussian and adds I/12 to every component covariance, so the stored
/// (intrinsic) covariance is the fitted one minus I/12 — rendering then reproduces G exactly.
/// The box adds exactly I/12 to the second moments of any profile, so the total second moments of
/// the stored mixture equal the image's minus I/12; a fixed point of weighted EM reproduces the
/// weighted second moments of the data.
///
/// Negative pixels (noise, background over-subtraction) get zero weight in EM but count in the
/// residual. Sampling at pixel centres is exact for the moments of well-sampled profiles
/// (component σ ≳ 1 pixel); for narrower components the fit inherits the undersampling.
public enum PSFFitter {
    /// Radii (pixels) of `PSFFitResult.missingFluxBeyond`.
    public static let missingFluxRadii: [Double] = [3, 6, 10, 15]

    public static func fit(_ image: PSFImage, options: PSFFitOptions) throws -> PSFFitResult {
        let k = options.components
        guard k >= 1 else { throw SceneModelError.invalidArgument("PSF fit: number of components must be ≥ 1, got \(k)") }
        guard options.maxIterations >= 1 else { throw SceneModelError.invalidArgument("PSF fit: maxIterations must be ≥ 1") }
        guard options.minimumVariance > 0, options.minimumVariance.isFinite else {
            throw SceneModelError.invalidArgument("PSF fit: minimumVariance must be positive")
        }
        if let bad = image.values.firstIndex(where: { !$0.isFinite }) {
            throw SceneModelError.invalidArgument(
                "PSF image: pixel (\(bad % image.width), \(bad / image.width)) is not finite (\(image.values[bad]))")
        }
        // Pixel positions and EM weights (negatives clipped to 0), only pixels with weight.
        var px: [Double] = [], py: [Double] = [], w: [Double] = []
        for y in 0..<image.height {
            for x in 0..<image.width where image[x, y] > 0 {
                px.append(Double(x)); py.append(Double(y)); w.append(image[x, y])
            }
        }
        let total = w.reduce(0, +)
        guard total > 0 else { throw SceneModelError.invalidArgument("PSF image: no positive pixels (all zero or negative)") }
        guard w.count >= 3 else {
            throw SceneModelError.invalidArgument("PSF image: only \(w.count) positive pixels; cannot fit a 2-D Gaussian")
        }
        let n = w.count
        for i in 0..<n { w[i] /= total }

        // Image moments.
        var mx = 0.0, my = 0.0
        for i in 0..<n { mx += w[i] * px[i]; my += w[i] * py[i] }
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for i in 0..<n {
            let dx = px[i] - mx, dy = py[i] - my
            sxx += w[i] * dx * dx; sxy += w[i] * dx * dy; syy += w[i] * dy * dy
        }
        let cx = options.centre?.x ?? mx, cy = options.centre?.y ?? my
        guard cx.isFinite, cy.isFinite else { throw SceneModelError.invalidArgument("PSF fit: centre is not finite") }

        let floorVariance = 1.0 / 12 + options.minimumVariance
        // Graded widths: component j starts with the image covariance scaled by a factor from 0.3
        // (core) to 2 (wings), equal amplitudes, all at the centroid.
        var comps: [GaussianComponent] = (0..<k).map { j in
            let s = k == 1 ? 1.0 : exp(log(0.3) + (log(2.0) - log(0.3)) * Double(j) / Double(k - 1))
            var c = GaussianComponent(amplitude: 1 / Double(k), x: mx, y: my, cxx: s * sxx, cxy: s * sxy, cyy: s * syy)
            floorCovariance(&c, minimum: floorVariance)
            return c
        }

        var resp = [Double](repeating: 0, count: n * k)
        var previous = -Double.infinity
        var iterations = 0
        var converged = false
        while iterations < options.maxIterations {
            iterations += 1
            // E step.
            let pre = comps.map(Precomputed.init)
            var logLikelihood = 0.0
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<k {
                    let v = pre[j].density(px[i], py[i])
                    resp[i * k + j] = v
                    sum += v
                }
                if sum > 0 {
                    logLikelihood += w[i] * log(sum)
                    for j in 0..<k { resp[i * k + j] /= sum }
                } else {
                    // Far from every component (numerically): give it to the widest.
                    logLikelihood += w[i] * -745
                    let widest = (0..<k).max { comps[$0].cxx + comps[$0].cyy < comps[$1].cxx + comps[$1].cyy }!
                    for j in 0..<k { resp[i * k + j] = j == widest ? 1 : 0 }
                }
            }
            // M step.
            for j in 0..<k {
                var a = 0.0, ux = 0.0, uy = 0.0
                for i in 0..<n {
                    let r = w[i] * resp[i * k + j]
                    a += r; ux += r * px[i]; uy += r * py[i]
                }
                // A component that no pixel claims drops to zero amplitude (and stays there).
                guard a > 1e-300 else { comps[j].amplitude = 0; continue }
                ux /= a; uy /= a
                var cxx = 0.0, cxy = 0.0, cyy = 0.0
                for i in 0..<n {
                    let r = w[i] * resp[i * k + j]
                    let dx = px[i] - ux, dy = py[i] - uy
                    cxx += r * dx * dx; cxy += r * dx * dy; cyy += r * dy * dy
                }
                var c = GaussianComponent(amplitude: a, x: ux, y: uy, cxx: cxx / a, cxy: cxy / a, cyy: cyy / a)
                floorCovariance(&c, minimum: floorVariance)
                comps[j] = c
            }
            if abs(logLikelihood - previous) < options.tolerance {
                converged = true
                break
            }
            previous = logLikelihood
        }

        // Optional least-squares refinement of the renderer's model against all pixels.
        var fluxScale = total
        var refineIterations = 0
        if options.refine {
            let start = comps.map { c -> RefineParameters in
                var intrinsic = GaussianComponent(amplitude: max(c.amplitude, 1e-9) * total, x: c.x, y: c.y,
                                                  cxx: c.cxx - 1.0 / 12, cxy: c.cxy, cyy: c.cyy - 1.0 / 12)
                floorCovariance(&intrinsic, minimum: options.minimumVariance)
                return RefineParameters(intrinsic)
            }
            let (refined, steps) = levenbergMarquardt(start, image: image, maxIterations: options.maxRefineIterations)
            refineIterations = steps
            fluxScale = refined.reduce(0) { $0 + $1.component.amplitude }
            comps = refined.map { p in
                var c = p.component
                c.amplitude /= fluxScale
                c.cxx += 1.0 / 12; c.cyy += 1.0 / 12
                return c
            }
        }

        // Residual of the pixel-level model against the image (all pixels, negatives included).
        let pre = comps.map(Precomputed.init)
        var absResidual = 0.0, absData = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                var m = 0.0
                for p in pre { m += p.density(Double(x), Double(y)) }
                absResidual += abs(image[x, y] - fluxScale * m)
                absData += abs(image[x, y])
            }
        }

        // Wing flux: image vs mixture beyond each radius (the mixture's flux off the image counts
        // as beyond every radius; it is what the renderer spreads there).
        var imageBeyond = [Double](repeating: 0, count: PSFFitter.missingFluxRadii.count)
        var modelBeyond = imageBeyond
        var modelInside = 0.0, imageTotal = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                var m = 0.0
                for p in pre { m += p.density(Double(x), Double(y)) }
                m *= fluxScale
                modelInside += m
                imageTotal += image[x, y]
                let r = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                for (k, radius) in PSFFitter.missingFluxRadii.enumerated() where r > radius {
                    imageBeyond[k] += image[x, y]
                    modelBeyond[k] += m
                }
            }
        }
        let modelOutside = max(0, fluxScale * comps.reduce(0) { $0 + $1.amplitude } - modelInside)
        let missing = zip(imageBeyond, modelBeyond).map { ($0 - ($1 + modelOutside)) / imageTotal }
        let headline = missing.max { abs($0) < abs($1) } ?? .nan

        // Remove the pixel response and express the means relative to the centre.
        var clamped = 0
        let amplitudeSum = comps.reduce(0) { $0 + $1.amplitude }
        let intrinsic: [GaussianComponent] = comps.map { c in
            var out = GaussianComponent(amplitude: c.amplitude / amplitudeSum, x: c.x - cx, y: c.y - cy,
                                        cxx: c.cxx - 1.0 / 12, cxy: c.cxy, cyy: c.cyy - 1.0 / 12)
            // At (or, by rounding, just below) the floor: EM already held it there.
            if smallestEigenvalue(out) <= options.minimumVariance * (1 + 1e-6) { clamped += 1 }
            floorCovariance(&out, minimum: options.minimumVariance)
            return out
        }
        let mixture = PSFMixture(components: intrinsic)
        try mixture.validate(name: "fitted")
        return PSFFitResult(mixture: mixture, centreX: cx, centreY: cy, residualFraction: absResidual / absData,
                            iterations: iterations, converged: converged, refineIterations: refineIterations,
                            clampedComponents: clamped, missingFluxBeyond: missing, missingFluxFraction: headline)
    }

    /// Raise the eigenvalues of a component's covariance to at least `minimum`, keeping its
    /// eigenvectors. Returns true if anything changed.
    @discardableResult
    static func floorCovariance(_ c: inout GaussianComponent, minimum: Double) -> Bool {
        let half = 0.5 * (c.cxx + c.cyy)
        let d = ((0.5 * (c.cxx - c.cyy)) * (0.5 * (c.cxx - c.cyy)) + c.cxy * c.cxy).squareRoot()
        let l1 = half + d, l2 = half - d
        guard l2 < minimum || !l2.isFinite else { return false }
        let n1 = max(l1, minimum), n2 = max(l2, minimum)
        if d == 0 {
            c.cxx = n1; c.cyy = n1; c.cxy = 0
            return true
        }
        // Unit eigenvector of l1: angle θ with cos 2θ = (cxx − cyy)/(2d), sin 2θ = cxy/d.
        let theta = 0.5 * atan2(c.cxy, 0.5 * (c.cxx - c.cyy))
        let co = cos(theta), si = sin(theta)
        c.cxx = n1 * co * co + n2 * si * si
        c.cyy = n1 * si * si + n2 * co * co
        c.cxy = (n1 - n2) * co * si
        return true
    }

    static func smallestEigenvalue(_ c: GaussianComponent) -> Double {
        0.5 * (c.cxx + c.cyy) - ((0.5 * (c.cxx - c.cyy)) * (0.5 * (c.cxx - c.cyy)) + c.cxy * c.cxy).squareRoot()
    }

    /// A component's normalised density with its inverse covariance cached.
    struct Precomputed {
        let a, x, y, ixx, ixy, iyy, norm: Double
        init(_ c: GaussianComponent) {
            let det = c.cxx * c.cyy - c.cxy * c.cxy
            a = c.amplitude; x = c.x; y = c.y
            ixx = c.cyy / det; ixy = -c.cxy / det; iyy = c.cxx / det
            norm = c.amplitude / (2 * Double.pi * det.squareRoot())
        }
        @inline(__always) func density(_ px: Double, _ py: Double) -> Double {
            let dx = px - x, dy = py - y
            return norm * exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy))
        }
    }
}

extension PSFMixture {
    /// Total second moments about the mixture's own mean (pixels²): Σₖ aₖ(Σₖ + μₖμₖᵀ) − μμᵀ with
    /// μ = Σₖ aₖμₖ, for amplitudes normalised to sum 1.
    public var secondMoments: (cxx: Double, cxy: Double, cyy: Double) {
        let total = totalAmplitude
        var mx = 0.0, my = 0.0
        for c in components { mx += c.amplitude * c.x; my += c.amplitude * c.y }
        mx /= total; my /= total
        var xx = 0.0, xy = 0.0, yy = 0.0
        for c in components {
            xx += c.amplitude * (c.cxx + (c.x - mx) * (c.x - mx))
            xy += c.amplitude * (c.cxy + (c.x - mx) * (c.y - my))
            yy += c.amplitude * (c.cyy + (c.y - my) * (c.y - my))
        }
        return (xx / total, xy / total, yy / total)
    }
}
