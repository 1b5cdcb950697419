/// How `convolved(with:)` treats the map's edges.
public enum ConvolutionBoundary: Sendable, Equatable, Hashable, Codable {
    /// The map is zero-padded (FFT size ≥ n + R, so nothing wraps around) and the result is
    /// divided by the convolution of the map's footprint ("normalised convolution", Knutsson &
    /// Westin 1993): interior pixels (further than the kernel radius R from an edge) are the
    /// exact linear convolution, edge pixels the profile-weighted average of the map pixels
    /// available. Preserves a constant map; preserves the mean up to edge weighting.
    case zeroPadded
    /// The map is treated as periodic (FFT size n): exact mean preservation, but edge pixels mix
    /// in the opposite edge. Only sensible when the map is much larger than the source.
    case periodic
}

extension MagnificationMap {
    /// The map convolved with one source profile (finite-source magnification map).
    public func convolved(with profile: SourceProfile, boundary: ConvolutionBoundary = .zeroPadded) throws -> MagnificationMap {
        try convolved(withEach: [profile], boundary: boundary)[0]
    }

    /// The map convolved with each profile in turn (the map is transformed once; each profile
    /// costs one kernel transform and one inverse transform).
    ///
    /// Method: the map (real part) and its footprint mask (imaginary part) are packed into one
    /// complex grid and transformed together; since kernels are real, the inverse transform of
    /// the product with a kernel's transform returns conv(map, K) + i·conv(mask, K) at once.
    public func convolved(withEach profiles: [SourceProfile], boundary: ConvolutionBoundary = .zeroPadded) throws -> [MagnificationMap] {
        for p in profiles { try p.validate() }
        let n = width
        let kernels = profiles.map { $0.kernel(pixelSize: geometry.pixelSize) }
        let maxR = kernels.map(\.radius).max() ?? 0
        let size = boundary == .periodic ? n : FFT.fastSize(atLeast: n + maxR)
        let fft = try FFT2D(width: size, height: size)
        var zr = [Double](repeating: 0, count: size * size), zi = zr
        for row in 0..<n {
            for col in 0..<n {
                zr[row * size + col] = Double(pixels[row * n + col])
                zi[row * size + col] = 1
            }
        }
        fft.forward(re: &zr, im: &zi)
        var out: [MagnificationMap] = []
        for (profile, kernel) in zip(profiles, kernels) {
            let r = kernel.radius, w = 2 * r + 1
            var kr = [Double](repeating: 0, count: size * size), ki = kr
            for a in 0..<w {
                let row = ((a - r) % size + size) % size
                for b in 0..<w {
                    let col = ((b - r) % size + size) % size
                    kr[row * size + col] += kernel.weights[a * w + b]
                }
            }
            fft.forward(re: &kr, im: &ki)
            var pr = [Double](repeating: 0, count: size * size), pi = pr
            for k in 0..<(size * size) {
                pr[k] = zr[k] * kr[k] - zi[k] * ki[k]
                pi[k] = zr[k] * ki[k] + zi[k] * kr[k]
            }
            fft.inverse(re: &pr, im: &pi)
            var px = [Float](repeating: 0, count: n * n)
            for row in 0..<n {
                for col in 0..<n {
                    let v = pr[row * size + col]
                    let norm = boundary == .periodic ? 1 : pi[row * size + col]
                    px[row * n + col] = Float(v / norm)
                }
            }
            out.append(MagnificationMap(geometry: geometry, pixels: px, model: model, starCount: starCount, seed: seed,
                                        raysShot: raysShot, raysPerPixelUnlensed: raysPerPixelUnlensed,
                                        sourceProfile: profile, deflectionErrorBound: deflectionErrorBound,
                                        compensation: compensation, stars: stars, region: region, method: method))
        }
        return out
    }
}

/// `map` convolved with `profile` (see `MagnificationMap.convolved(with:boundary:)`).
public func convolve(_ map: MagnificationMap, with profile: SourceProfile,
                     boundary: ConvolutionBoundary = .zeroPadded) throws -> MagnificationMap {
    try map.convolved(with: profile, boundary: boundary)
}
