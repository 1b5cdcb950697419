import RealModule

/// Surface-brightness profile of a finite source, sizes in Einstein radii (of 1 M☉).
public enum SourceProfile: Sendable, Equatable, Hashable, Codable {
    /// I(r) ∝ exp(−r²/(2σ²)) (half-light radius √(2 ln 2)·σ ≈ 1.18σ).
    case gaussian(sigma: Double)
    /// Uniform disk: I(r) = const for r ≤ radius, 0 outside (half-light radius radius/√2).
    case disk(radius: Double)

    /// A profile by the name configurations and the command line use; the raw values are the
    /// spellings stored in grid files, `params.json` and map attributes (`source_profile`).
    public enum Shape: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
        /// `gaussian(sigma:)`: a source size is σ.
        case gaussian
        /// `disk(radius:)`: a source size is the radius.
        case disk

        /// The profile of source size `size` (Einstein radii); nil for size 0, the point source.
        public func profile(size: Double) -> SourceProfile? {
            guard size > 0 else { return nil }
            switch self {
            case .gaussian: return .gaussian(sigma: size)
            case .disk: return .disk(radius: size)
            }
        }
    }

    /// Gaussians are truncated at this many σ (the weight beyond 6σ is e^−18 ≈ 1.5e−8).
    public static let gaussianTruncation = 6.0
    /// Sub-pixels per pixel side used to integrate the disk over a pixel.
    public static let diskSupersampling = 16

    func validate() throws {
        switch self {
        case let .gaussian(s):
            try MicrolensingError.require(s.isFinite && s > 0, "sigma", s, "must be finite and > 0")
        case let .disk(r):
            try MicrolensingError.require(r.isFinite && r > 0, "radius", r, "must be finite and > 0")
        }
    }

    /// The profile integrated over pixels of side `pixelSize`, centred on pixel (0, 0), on
    /// offsets −R…R per axis, normalised to sum 1: (R, weights[(dy + R)(2R+1) + dx + R]).
    /// Gaussian: separable, each factor ½[erf((j+½)Δ/(√2σ)) − erf((j−½)Δ/(√2σ))]. Disk: the
    /// fraction of each pixel inside the disk by 16×16 sub-pixel sampling (a disk narrower
    /// than a sub-pixel collapses to the central pixel).
    public func kernel(pixelSize: Double) -> (radius: Int, weights: [Double]) {
        switch self {
        case let .gaussian(sigma):
            let r = Int((Self.gaussianTruncation * sigma / pixelSize).rounded(.up))
            let s = 1 / (2.0.squareRoot() * sigma)
            var g = [Double](repeating: 0, count: 2 * r + 1)
            for j in -r...r {
                let hi: Double = Double.erf((Double(j) + 0.5) * pixelSize * s)
                let lo: Double = Double.erf((Double(j) - 0.5) * pixelSize * s)
                g[j + r] = 0.5 * (hi - lo)
            }
            let w = 2 * r + 1
            var k = [Double](repeating: 0, count: w * w)
            var total = 0.0
            for a in 0..<w { for b in 0..<w { k[a * w + b] = g[a] * g[b]; total += k[a * w + b] } }
            return (r, k.map { $0 / total })
        case let .disk(radius):
            let rr = radius / pixelSize
            let r = Int((rr + 0.5).rounded(.up))
            let w = 2 * r + 1
            let ss = Self.diskSupersampling
            var k = [Double](repeating: 0, count: w * w)
            var total = 0.0
            for a in 0..<w {
                for b in 0..<w {
                    var inside = 0
                    for sa in 0..<ss {
                        let yy = Double(a - r) - 0.5 + (Double(sa) + 0.5) / Double(ss)
                        for sb in 0..<ss {
                            let xx = Double(b - r) - 0.5 + (Double(sb) + 0.5) / Double(ss)
                            if xx * xx + yy * yy <= rr * rr { inside += 1 }
                        }
                    }
                    k[a * w + b] = Double(inside)
                    total += Double(inside)
                }
            }
            if total == 0 {
                k = [Double](repeating: 0, count: w * w)
                k[r * w + r] = 1
                return (r, k)
            }
            return (r, k.map { $0 / total })
        }
    }
}
