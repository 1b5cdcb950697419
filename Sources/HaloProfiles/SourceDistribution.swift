/// Source-redshift-distribution averages of the lensing efficiency β = max(0, D_ls/D_s).
///
/// Convention: ⟨β⟩ = ∫ β(z) N(z) dz / ∫ N(z) dz and ⟨β²⟩ likewise, both integrals over the same range
/// (sources in front of the lens count with β = 0). With Σ_crit,∞ ≡ c²/(4πG D_l) (M☉ Mpc⁻², physical),
/// the effective critical density of the sample is Σ_crit,∞ / ⟨β⟩.
extension Cosmology {
    /// ⟨β⟩ and ⟨β²⟩ for a continuous N(z) (any normalisation, N ≥ 0) on [zMin, zMax].
    /// - Throws: bad redshifts, zMax ≤ zMin, or ∫N ≤ 0.
    public func meanBeta(zLens: Double, zMin: Double, zMax: Double,
                         nOfZ: (Double) -> Double) throws(HaloProfileError) -> (beta: Double, betaSquared: Double) {
        try requireRedshift(zLens, "zLens")
        try requireRedshift(zMin, "zMin")
        try requireRedshift(zMax, "zMax")
        guard zMax > zMin else { throw .outOfRange(parameter: "zMax", value: zMax, allowed: "> zMin") }
        let chiL = comovingDistanceUnchecked(0, zLens)
        let norm = Quadrature.integrate(nOfZ, from: zMin, to: zMax, relativeTolerance: 1e-10)
        guard norm > 0, norm.isFinite else { throw .nonPositive(parameter: "nOfZ normalisation", value: norm) }
        let lo = max(zMin, zLens)
        if lo >= zMax { return (0, 0) }
        let b1 = Quadrature.integrate({ z in
            let chiS = self.comovingDistanceUnchecked(0, z)
            return (chiS - chiL) / chiS * nOfZ(z)
        }, from: lo, to: zMax, relativeTolerance: 1e-10)
        let b2 = Quadrature.integrate({ z in
            let chiS = self.comovingDistanceUnchecked(0, z)
            let b = (chiS - chiL) / chiS
            return b * b * nOfZ(z)
        }, from: lo, to: zMax, relativeTolerance: 1e-10)
        return (b1 / norm, b2 / norm)
    }

    /// ⟨β⟩ and ⟨β²⟩ for discrete sources (redshifts with optional non-negative weights, default 1).
    public func meanBeta(zLens: Double, sourceRedshifts: [Double],
                         weights: [Double]? = nil) throws(HaloProfileError) -> (beta: Double, betaSquared: Double) {
        try requireRedshift(zLens, "zLens")
        guard !sourceRedshifts.isEmpty else {
            throw .outOfRange(parameter: "sourceRedshifts", value: 0, allowed: "at least one source")
        }
        if let w = weights, w.count != sourceRedshifts.count {
            throw .outOfRange(parameter: "weights.count", value: Double(w.count), allowed: "== sourceRedshifts.count")
        }
        var sw = 0.0, s1 = 0.0, s2 = 0.0
        for (i, z) in sourceRedshifts.enumerated() {
            let w = weights?[i] ?? 1
            guard w.isFinite, w >= 0 else { throw .outOfRange(parameter: "weights[\(i)]", value: w, allowed: ">= 0") }
            let b = try beta(zLens: zLens, zSource: z)
            sw += w; s1 += w * b; s2 += w * b * b
        }
        guard sw > 0 else { throw .nonPositive(parameter: "sum of weights", value: sw) }
        return (s1 / sw, s2 / sw)
    }

    /// Σ_crit,∞ = c²/(4πG D_l) [M☉ Mpc⁻², physical]: Σ_crit for a source at infinite distance (β = 1).
    public func criticalSurfaceDensityInfinity(zLens: Double) throws(HaloProfileError) -> Double {
        try requireRedshift(zLens, "zLens")
        guard zLens > 0 else { throw .nonPositive(parameter: "zLens", value: zLens) }
        return Constants.sigmaCritPrefactor / (comovingDistanceUnchecked(0, zLens) / (1 + zLens))
    }
}
