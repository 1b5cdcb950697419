import TesseraRun

/// Configuration of `tessera clusters bin`: the user's binning scheme over the fit run's
/// `summary.csv`. Either `column` with `edges` (half-open bins [eₖ, eₖ₊₁), the last closed), or
/// `command`, an external program that assigns a bin label per halo.
public struct ClusterBinConfiguration: Configuration, Equatable {
    public var column = "log10_true_mass"
    public var edges: [Double] = [14.0, 14.5, 15.0]
    public var command = ""
    public var emptyBins = "skip"
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case column, edges, command, emptyBins = "empty_bins"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .column:
            return "summary.csv column to bin on (e.g. log10_true_mass, redshift, log10_mass); ignored when command is set."
        case .edges: return "Bin edges on that column, strictly increasing: bins [e0, e1), [e1, e2), …, the last one closed."
        case .command:
            return """
            External binning command (run with /bin/sh -c; $1 and $TESSERA_SUMMARY_CSV are the summary.csv path,
            $TESSERA_SUMMARY_FITS the summary.fits path). It prints one line per halo, `id,bin` (bin: a label of
            letters, digits, '.', '_' or '-'; an optional `id,bin` header line). Halos it does not list are unbinned.
            """
        case .emptyBins: return "What a bin with no halos does: skip (logged, no membership list) or error."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        column = try c.decodeIfPresent(String.self, forKey: .column) ?? d.column
        edges = try c.decodeIfPresent([Double].self, forKey: .edges) ?? d.edges
        command = try c.decodeIfPresent(String.self, forKey: .command) ?? d.command
        emptyBins = try c.decodeIfPresent(String.self, forKey: .emptyBins) ?? d.emptyBins
    }

    public func validate() throws {
        if !["skip", "error"].contains(emptyBins) {
            throw InvalidConfigValue(field: "empty_bins", reason: "must be skip or error, got '\(emptyBins)'")
        }
        if command.isEmpty {
            if column.isEmpty { throw InvalidConfigValue(field: "column", reason: "give a summary column (or a command)") }
            if edges.count < 2 { throw InvalidConfigValue(field: "edges", reason: "need at least two bin edges") }
            for i in 1..<edges.count where !(edges[i] > edges[i - 1]) || !edges[i].isFinite || !edges[0].isFinite {
                throw InvalidConfigValue(field: "edges", reason: "must be finite and strictly increasing")
            }
        }
    }
}

/// Configuration of `tessera clusters ensemble`: the per-bin population fit
/// ln M_WL = ln b + ln M_true + ε, ε ~ N(0, σ²), sampled with NUTS.
public struct ClusterEnsembleConfiguration: Configuration, Equatable {
    public var warmup = 400
    public var draws = 1000
    public var chains = 4
    public var seed: UInt64 = 1
    public var minHalos = 5
    public var maxSamples = 500
    public var lnBiasPrior: [Double] = [0.0, 1.0]
    public var lnScatterPrior: [Double] = [-1.2039728043259361, 1.5]
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case warmup, draws, chains, seed, minHalos = "min_halos", maxSamples = "max_samples"
        case lnBiasPrior = "ln_bias_prior", lnScatterPrior = "ln_scatter_prior"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .warmup: return "NUTS warm-up iterations per chain."
        case .draws: return "NUTS draws per chain."
        case .chains: return "NUTS chains per bin (seeds (seed, chain))."
        case .seed: return "Seed of the population sampler; bin k uses seed + k."
        case .minHalos: return "Bins with fewer halos are skipped (logged)."
        case .maxSamples: return "Posterior samples used per halo (thinned evenly when it has more); optimiser fits use their Gaussian ML point and error."
        case .lnBiasPrior: return "[mean, sigma] of the Gaussian prior on ln b."
        case .lnScatterPrior: return "[mean, sigma] of the Gaussian prior on ln σ_lnM (default mean ln 0.3)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? d.draws
        chains = try c.decodeIfPresent(Int.self, forKey: .chains) ?? d.chains
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        minHalos = try c.decodeIfPresent(Int.self, forKey: .minHalos) ?? d.minHalos
        maxSamples = try c.decodeIfPresent(Int.self, forKey: .maxSamples) ?? d.maxSamples
        lnBiasPrior = try c.decodeIfPresent([Double].self, forKey: .lnBiasPrior) ?? d.lnBiasPrior
        lnScatterPrior = try c.decodeIfPresent([Double].self, forKey: .lnScatterPrior) ?? d.lnScatterPrior
    }

    public func validate() throws {
        if warmup < 10 || draws < 10 || chains < 1 {
            throw InvalidConfigValue(field: "warmup", reason: "warmup and draws must be >= 10 and chains >= 1")
        }
        if minHalos < 1 { throw InvalidConfigValue(field: "min_halos", reason: "must be >= 1") }
        if maxSamples < 10 { throw InvalidConfigValue(field: "max_samples", reason: "must be >= 10") }
        for (key, p) in [("ln_bias_prior", lnBiasPrior), ("ln_scatter_prior", lnScatterPrior)] {
            guard p.count == 2, p[0].isFinite, p[1].isFinite, p[1] > 0 else {
                throw InvalidConfigValue(field: key, reason: "must be [mean, sigma] with sigma > 0")
            }
        }
    }
}

/// Configuration of `tessera clusters compare`: the truth table and the plot grid.
public struct ClusterCompareConfiguration: Configuration, Equatable {
    public var truth = "truth.fits"
    public var gridPoints = 101
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case truth, gridPoints = "grid_points"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .truth:
            return "Truth table (FITS, as `clusters mock` writes): columns ID, LOG10_TRUE_MASS, LOG10_LENSING_MASS; header BIAS, SCATTER."
        case .gridPoints: return "Points per parameter of the plot-ready likelihood and posterior curves."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        truth = try c.decodeIfPresent(String.self, forKey: .truth) ?? d.truth
        gridPoints = try c.decodeIfPresent(Int.self, forKey: .gridPoints) ?? d.gridPoints
    }

    public func validate() throws {
        if gridPoints < 3 { throw InvalidConfigValue(field: "grid_points", reason: "must be >= 3") }
    }
}
