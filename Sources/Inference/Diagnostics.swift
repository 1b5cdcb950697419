import RealModule

/// Convergence diagnostics for MCMC output, following Stan's `compute_effective_sample_size` and
/// `compute_split_potential_scale_reduction` (Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed.,
/// §11.4–11.5; Geyer 1992 initial monotone sequence).
///
/// Input convention: `chains[c][i]` is draw `i` of one scalar quantity in chain `c`. Chains of
/// unequal length are truncated to the shortest. Results are NaN when fewer than 4 draws per chain
/// are available or a chain is constant / non-finite.
public enum Diagnostics {
    /// Biased autocovariance γ̂ₜ = (1/n) Σ (xᵢ − x̄)(xᵢ₊ₜ − x̄) for lags t = 0..<maxLag.
    static func autocovariance(_ x: [Double], maxLag: Int) -> [Double] {
        let n = x.count
        let mean = x.reduce(0, +) / Double(n)
        let d = x.map { $0 - mean }
        return (0..<Swift.min(maxLag, n)).map { t in
            var s = 0.0
            for i in 0..<(n - t) { s += d[i] * d[i + t] }
            return s / Double(n)
        }
    }

    /// Split each chain into two halves (dropping the middle draw of an odd-length chain).
    public static func split(_ chains: [[Double]]) -> [[Double]] {
        let n = chains.map(\.count).min() ?? 0
        let half = n / 2
        return chains.flatMap { c -> [[Double]] in
            [Array(c[0..<half]), Array(c[(n - half)..<n])]
        }
    }

    static func valid(_ chains: [[Double]]) -> Bool {
        guard !chains.isEmpty, let n = chains.map(\.count).min(), n >= 4 else { return false }
        for c in chains {
            guard c.prefix(n).allSatisfy({ $0.isFinite }) else { return false }
        }
        // All chains constant → undefined.
        let first = chains[0][0]
        return !chains.allSatisfy { $0.prefix(n).allSatisfy { $0 == first } }
    }

    /// Effective sample size of one or several chains (not split), as Stan: multi-chain
    /// autocorrelation ρ̂ₜ = 1 − (W − γ̄ₜ)/var⁺, Geyer's initial positive then initial monotone
    /// sequence, τ̂ = −1 + 2 Σ_{t<T} ρ̂ₜ + ρ̂_T, ESS = mn/τ̂ capped at mn·log₁₀(mn).
    public static func effectiveSampleSize(_ chains: [[Double]]) -> Double {
        guard valid(chains) else { return .nan }
        let n = chains.map(\.count).min()!
        let m = chains.count
        let cs = chains.map { Array($0.prefix(n)) }
        let means = cs.map { $0.reduce(0, +) / Double(n) }
        let centred = zip(cs, means).map { c, mu in c.map { $0 - mu } }
        let dn = Double(n)
        // Lags are computed on demand: Geyer's truncation usually stops after a few.
        func acovAt(_ c: Int, _ t: Int) -> Double {
            let d = centred[c]
            var s = 0.0
            for i in 0..<(n - t) { s += d[i] * d[i + t] }
            return s / dn
        }
        let chainVar = (0..<m).map { acovAt($0, 0) * dn / (dn - 1) }
        let meanVar = chainVar.reduce(0, +) / Double(m)
        var varPlus = meanVar * (dn - 1) / dn
        if m > 1 {
            let mm = means.reduce(0, +) / Double(m)
            varPlus += means.reduce(0) { $0 + ($1 - mm) * ($1 - mm) } / Double(m - 1)
        }
        func acovMean(_ s: Int) -> Double { (0..<m).reduce(0) { $0 + acovAt($1, s) } / Double(m) }
        var rho = [Double](repeating: 0, count: n)
        var rhoEven = 1.0
        rho[0] = 1
        var rhoOdd = 1 - (meanVar - acovMean(1)) / varPlus
        rho[1] = rhoOdd
        // Geyer's initial positive sequence.
        var s = 1
        while s < n - 4 && rhoEven + rhoOdd > 0 {
            rhoEven = 1 - (meanVar - acovMean(s + 1)) / varPlus
            rhoOdd = 1 - (meanVar - acovMean(s + 2)) / varPlus
            if rhoEven + rhoOdd >= 0 {
                rho[s + 1] = rhoEven
                rho[s + 2] = rhoOdd
            }
            s += 2
        }
        let maxS = s
        // Reduces variance in the antithetic case.
        if rho[maxS] > 0 && maxS + 1 < n { rho[maxS + 1] = rho[maxS] }
        // Geyer's initial monotone sequence.
        s = 1
        while s <= maxS - 3 {
            if rho[s + 1] + rho[s + 2] > rho[s - 1] + rho[s] {
                rho[s + 1] = (rho[s - 1] + rho[s]) / 2
                rho[s + 2] = rho[s + 1]
            }
            s += 2
        }
        let total = Double(m * n)
        // Stan floors τ̂ at 1/log₁₀(mn): strongly antithetic draws (e.g. a parameter pinned at a
        // bound, alternating by rounding) can make the sum ≤ 0, which would give a negative ESS.
        let tau = Swift.max(-1 + 2 * rho[0..<maxS].reduce(0, +) + rho[maxS], 1 / Double.log10(total))
        return Swift.min(total / tau, total * Double.log10(total))
    }

    /// ESS computed on split chains (Stan's `compute_split_effective_sample_size`).
    public static func splitEffectiveSampleSize(_ chains: [[Double]]) -> Double {
        effectiveSampleSize(split(chains))
    }

    /// Split-R̂ (potential scale reduction on split chains): with n draws per half-chain,
    /// B = n·Var(chain means), W = mean within-chain variance, R̂ = √(((n−1)/n · W + B/n) / W).
    /// ≈ 1 for converged chains; ≫ 1 when chains disagree or drift.
    public static func splitRHat(_ chains: [[Double]]) -> Double {
        let halves = split(chains)
        guard valid(halves), halves.count >= 2 else { return .nan }
        let n = halves.map(\.count).min()!
        let dn = Double(n)
        let m = Double(halves.count)
        let means = halves.map { $0.prefix(n).reduce(0, +) / dn }
        let vars = zip(halves, means).map { c, mu in c.prefix(n).reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / (dn - 1) }
        let grand = means.reduce(0, +) / m
        let b = dn * means.reduce(0) { $0 + ($1 - grand) * ($1 - grand) } / (m - 1)
        let w = vars.reduce(0, +) / m
        return Double.sqrt((b / w + dn - 1) / dn)
    }

    /// Energy Bayesian fraction of missing information (Betancourt 2016; Stan's E-BFMI):
    /// Σᵢ (Eᵢ − Eᵢ₋₁)² / Σᵢ (Eᵢ − Ē)² over one chain's `DrawStats.energy`. Values below ≈ 0.3
    /// indicate that momentum resampling explores the energy distribution poorly.
    public static func energyBFMI(_ energies: [Double]) -> Double {
        guard energies.count >= 2 else { return .nan }
        let mu = energies.reduce(0, +) / Double(energies.count)
        var num = 0.0, den = 0.0
        for i in 0..<energies.count {
            den += (energies[i] - mu) * (energies[i] - mu)
            if i > 0 { num += (energies[i] - energies[i - 1]) * (energies[i] - energies[i - 1]) }
        }
        return num / den
    }

    /// Monte-Carlo standard error of the mean: sd / √ESS (pooled draws, split ESS).
    public static func monteCarloStandardError(_ chains: [[Double]]) -> Double {
        let all = chains.flatMap { $0 }
        let mu = all.reduce(0, +) / Double(all.count)
        let sd = Double.sqrt(all.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(all.count - 1))
        return sd / Double.sqrt(splitEffectiveSampleSize(chains))
    }
}
