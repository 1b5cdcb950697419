import Foundation
import LensInference
import RunKit
import TesseraRun

/// Configuration of `tessera infer`: the hierarchical strong-lens inference run (inputs, the mock population it
/// may draw, the selection table, the interim priors and the two NUTS stages), as recorded in `params.json`.
///
/// Units follow `PopulationHyperparameters`: log10 masses in M☉, α_sps dimensionless, angles in arcsec.
public struct InferConfiguration: Configuration, Equatable {
    public var simId = "example"
    public var runId = ""
    public var outputRoot = "inference"
    public var table = ""
    public var tableVersion = ""
    public var sourceSize = 0.0
    public var microlensing = true
    public var catalog = ""
    public var mockLenses = 8
    public var mockSeed: UInt64 = 1
    public var trueAlphaSps = 1.2
    public var trueHaloSlope = 1.5
    public var trueHaloNormalisation = 13.0
    public var trueHaloScatter = 0.15
    public var selectionAxes: [[Double]] = [[0.8, 1.2, 1.6], [1.0, 1.5, 2.0], [12.6, 13.0, 13.4], [0.05, 0.15, 0.3]]
    public var selectionDraws = 400
    public var selectionSeed: UInt64 = 7
    public var selectionVersion = ""
    public var selectionFile = ""
    public var interimLogHaloMass: [Double] = [11.5, 15.0]
    public var interimAlpha: [Double] = [0.6, 2.2]
    public var alphaMarginal = "conditional"
    public var conditionalDraws = 100
    public var conditionalAlphaStep = 0.01
    public var alphaKernelWidth = 0.05
    public var lensWarmup = 150
    public var lensDraws = 300
    public var lensMaxTreeDepth = 8
    public var lensCoordinates = "enclosed_mass"
    public var chains = 4
    public var warmup = 500
    public var draws = 1000
    public var seed: UInt64 = 1
    public var maxAttempts = 2
    public var refineRounds = 2
    public var monteCarloTarget = 0.5

    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case simId = "sim_id", runId = "run_id", outputRoot = "output_root", table, tableVersion = "table_version"
        case sourceSize = "source_size", microlensing, catalog, mockLenses = "mock_lenses", mockSeed = "mock_seed"
        case trueAlphaSps = "true_alpha_sps", trueHaloSlope = "true_halo_slope"
        case trueHaloNormalisation = "true_halo_normalisation", trueHaloScatter = "true_halo_scatter"
        case selectionAxes = "selection_axes", selectionDraws = "selection_draws", selectionSeed = "selection_seed"
        case selectionVersion = "selection_version", selectionFile = "selection_file", interimLogHaloMass = "interim_log_halo_mass"
        case interimAlpha = "interim_alpha", alphaMarginal = "alpha_marginal", conditionalDraws = "conditional_draws"
        case conditionalAlphaStep = "conditional_alpha_step", alphaKernelWidth = "alpha_kernel_width", lensWarmup = "lens_warmup"
        case lensDraws = "lens_draws", lensMaxTreeDepth = "lens_max_tree_depth", lensCoordinates = "lens_coordinates"
        case chains, warmup, draws, seed
        case maxAttempts = "max_attempts"
        case refineRounds = "refine_rounds", monteCarloTarget = "monte_carlo_target"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .simId: return "Simulation (table set) name: results go to <output_root>/<sim_id>/<run_id>/."
        case .runId: return "Run name; empty: the UTC start time (e.g. 20261206T101500Z)."
        case .outputRoot: return "Root folder of inference runs (--out overrides the whole run directory)."
        case .table: return "Magnification table (table.h5 from `tessera tabulate`); required."
        case .tableVersion: return "Expected table_version of the table; empty: take the file's (recorded in params.json, so a\nresumed or reproduced run refuses a table whose version differs)."
        case .sourceSize: return "Source size for the microlensing PDFs, in microlens Einstein radii (a size of the table)."
        case .microlensing: return "Marginalise microlensing with the table (true) or treat fluxes as Gaussian only (false)."
        case .catalog: return "A lens catalog (MockLensCatalog JSON, e.g. a previous run's catalog.json); empty: draw a mock\nfrom the true_* hyperparameters with the table (mock_lenses lenses, mock_seed)."
        case .mockLenses: return "Lenses in the mock (when catalog is empty)."
        case .mockSeed: return "Seed of the mock population."
        case .trueAlphaSps: return "Mock truth: α_sps (M* = α_sps M_sps)."
        case .trueHaloSlope: return "Mock truth: slope of log M_h against log M*."
        case .trueHaloNormalisation: return "Mock truth: log M_h [M☉] at log M* = 11.5."
        case .trueHaloScatter: return "Mock truth: scatter of log M_h about the relation [dex]."
        case .selectionAxes: return "Grid of the selection table A(η), four increasing lists: α_sps, halo slope, halo normalisation,\nhalo scatter. It is also the box of the uniform hyperprior. (Built in memory at the start, across ranks,\nand saved as selection.json; unused with selection_file.)"
        case .selectionDraws: return "Monte Carlo draws per selection-table node (common random numbers across nodes)."
        case .selectionSeed: return "Seed of the selection draws."
        case .selectionVersion: return "Expected selection-table version; empty: the selection file's, or the one computed from the\nselection settings."
        case .selectionFile: return "A selection normalisation built by `tessera selection build` (selection.h5) for the same\nmagnification table: A(η) and the hyperprior box come from it, and selection_axes/draws/seed are\nunused. Empty: the grid of selection_axes, built at the start."
        case .interimLogHaloMass: return "Stage-1 interim prior on log M_h [M☉]: uniform on [lo, hi]."
        case .interimAlpha: return "Stage-1 interim prior on each lens's α: uniform on [lo, hi]; must cover the α axis (or the selection\nfile's α range) ± 3 h."
        case .alphaMarginal: return "How stage 2 takes each lens's posterior at the shared α_sps: conditional (each kept stage-1 draw's\nconditional density of α, computed after its chain; no width, see AlphaConditional) or kernel (an α\nkernel of width alpha_kernel_width about α_sps)."
        case .conditionalDraws: return "alpha_marginal conditional: stage-1 draws kept per lens (evenly spaced) whose α conditional is computed."
        case .conditionalAlphaStep: return "alpha_marginal conditional: largest step of the α grid over interim_alpha (each kept draw costs one\nlikelihood value per grid point)."
        case .alphaKernelWidth: return "alpha_marginal kernel: h, the width of each lens's α about α_sps (see ReweightedPopulation)."
        case .lensWarmup: return "Stage 1: NUTS warm-up iterations per lens."
        case .lensDraws: return "Stage 1: NUTS draws kept per lens."
        case .lensMaxTreeDepth: return "Stage 1: NUTS maximum tree depth (caps the cost of one draw at 2^depth gradients)."
        case .lensCoordinates: return "Stage 1: the coordinate NUTS moves in place of log M_h: enclosed_mass (ln of the deflection at the\nimages' mean radius, which the images fix; see EnclosedMassCoordinates) or halo_mass (log M_h itself)."
        case .chains: return "Stage 2: NUTS chains over η, started from dispersed points of the hyperprior box."
        case .warmup: return "Stage 2: warm-up iterations per chain."
        case .draws: return "Stage 2: draws kept per chain."
        case .seed: return "Seed of both NUTS stages and of the per-lens conditional draws."
        case .maxAttempts: return "Tries per lens or chain before it is given up (the run then fails; --resume retries)."
        case .refineRounds: return "Rounds of stage-1 refinement: after stage 2, the lenses whose chains mixed poorly and those that carry most\nof the Monte Carlo variance of ln p(η | data) at the median η get another stage-1 chain each, and stage 2 is\nrun again (0: none)."
        case .monteCarloTarget: return "Refine until the Monte Carlo variance of ln p(η | data) at the median η is at most this (above ~1 the\nη intervals are too narrow)."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        simId = try c.decodeIfPresent(String.self, forKey: .simId) ?? d.simId
        runId = try c.decodeIfPresent(String.self, forKey: .runId) ?? d.runId
        outputRoot = try c.decodeIfPresent(String.self, forKey: .outputRoot) ?? d.outputRoot
        table = try c.decodeIfPresent(String.self, forKey: .table) ?? d.table
        tableVersion = try c.decodeIfPresent(String.self, forKey: .tableVersion) ?? d.tableVersion
        sourceSize = try c.decodeIfPresent(Double.self, forKey: .sourceSize) ?? d.sourceSize
        microlensing = try c.decodeIfPresent(Bool.self, forKey: .microlensing) ?? d.microlensing
        catalog = try c.decodeIfPresent(String.self, forKey: .catalog) ?? d.catalog
        mockLenses = try c.decodeIfPresent(Int.self, forKey: .mockLenses) ?? d.mockLenses
        mockSeed = try c.decodeIfPresent(UInt64.self, forKey: .mockSeed) ?? d.mockSeed
        trueAlphaSps = try c.decodeIfPresent(Double.self, forKey: .trueAlphaSps) ?? d.trueAlphaSps
        trueHaloSlope = try c.decodeIfPresent(Double.self, forKey: .trueHaloSlope) ?? d.trueHaloSlope
        trueHaloNormalisation = try c.decodeIfPresent(Double.self, forKey: .trueHaloNormalisation) ?? d.trueHaloNormalisation
        trueHaloScatter = try c.decodeIfPresent(Double.self, forKey: .trueHaloScatter) ?? d.trueHaloScatter
        selectionAxes = try c.decodeIfPresent([[Double]].self, forKey: .selectionAxes) ?? d.selectionAxes
        selectionDraws = try c.decodeIfPresent(Int.self, forKey: .selectionDraws) ?? d.selectionDraws
        selectionSeed = try c.decodeIfPresent(UInt64.self, forKey: .selectionSeed) ?? d.selectionSeed
        selectionVersion = try c.decodeIfPresent(String.self, forKey: .selectionVersion) ?? d.selectionVersion
        selectionFile = try c.decodeIfPresent(String.self, forKey: .selectionFile) ?? d.selectionFile
        interimLogHaloMass = try c.decodeIfPresent([Double].self, forKey: .interimLogHaloMass) ?? d.interimLogHaloMass
        interimAlpha = try c.decodeIfPresent([Double].self, forKey: .interimAlpha) ?? d.interimAlpha
        alphaMarginal = try c.decodeIfPresent(String.self, forKey: .alphaMarginal) ?? d.alphaMarginal
        conditionalDraws = try c.decodeIfPresent(Int.self, forKey: .conditionalDraws) ?? d.conditionalDraws
        conditionalAlphaStep = try c.decodeIfPresent(Double.self, forKey: .conditionalAlphaStep) ?? d.conditionalAlphaStep
        alphaKernelWidth = try c.decodeIfPresent(Double.self, forKey: .alphaKernelWidth) ?? d.alphaKernelWidth
        lensWarmup = try c.decodeIfPresent(Int.self, forKey: .lensWarmup) ?? d.lensWarmup
        lensDraws = try c.decodeIfPresent(Int.self, forKey: .lensDraws) ?? d.lensDraws
        lensMaxTreeDepth = try c.decodeIfPresent(Int.self, forKey: .lensMaxTreeDepth) ?? d.lensMaxTreeDepth
        lensCoordinates = try c.decodeIfPresent(String.self, forKey: .lensCoordinates) ?? d.lensCoordinates
        chains = try c.decodeIfPresent(Int.self, forKey: .chains) ?? d.chains
        warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
        draws = try c.decodeIfPresent(Int.self, forKey: .draws) ?? d.draws
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        refineRounds = try c.decodeIfPresent(Int.self, forKey: .refineRounds) ?? d.refineRounds
        monteCarloTarget = try c.decodeIfPresent(Double.self, forKey: .monteCarloTarget) ?? d.monteCarloTarget
    }

    public func validate() throws {
        if table.isEmpty { throw InvalidConfigValue(field: "table", reason: "is required (a table.h5 from `tessera tabulate`)") }
        if simId.isEmpty || simId.contains("/") { throw InvalidConfigValue(field: "sim_id", reason: "must be a non-empty name without '/'") }
        if runId.contains("/") { throw InvalidConfigValue(field: "run_id", reason: "must not contain '/'") }
        if !(sourceSize >= 0) { throw InvalidConfigValue(field: "source_size", reason: "must be >= 0, got \(sourceSize)") }
        if catalog.isEmpty && mockLenses < 1 { throw InvalidConfigValue(field: "mock_lenses", reason: "must be >= 1, got \(mockLenses)") }
        guard selectionAxes.count == 4 else {
            throw InvalidConfigValue(field: "selection_axes", reason: "needs 4 lists (α_sps, halo slope, halo normalisation, halo scatter), got \(selectionAxes.count)")
        }
        for (k, axis) in selectionAxes.enumerated() {
            guard axis.count >= 2, zip(axis, axis.dropFirst()).allSatisfy({ $0 < $1 }), axis.allSatisfy(\.isFinite) else {
                throw InvalidConfigValue(field: "selection_axes[\(k)]", reason: "must hold at least 2 strictly increasing finite values, got \(axis)")
            }
        }
        if selectionAxes[0][0] <= 0 { throw InvalidConfigValue(field: "selection_axes[0]", reason: "α_sps values must be > 0") }
        if selectionAxes[3][0] <= 0 { throw InvalidConfigValue(field: "selection_axes[3]", reason: "scatter values must be > 0") }
        if selectionDraws < 10 { throw InvalidConfigValue(field: "selection_draws", reason: "must be >= 10, got \(selectionDraws)") }
        for (name, r) in [("interim_log_halo_mass", interimLogHaloMass), ("interim_alpha", interimAlpha)] {
            guard r.count == 2, r[0] < r[1], r.allSatisfy(\.isFinite) else {
                throw InvalidConfigValue(field: name, reason: "must be [lo, hi] with lo < hi, got \(r)")
            }
        }
        if !(alphaKernelWidth > 0) { throw InvalidConfigValue(field: "alpha_kernel_width", reason: "must be > 0, got \(alphaKernelWidth)") }
        // With a selection file its box is the hyperprior and the axes are unused: `InferRunner.checkSelectionRecipe`
        // checks interim_alpha against the file's α range once the file is read.
        if selectionFile.isEmpty {
            try Self.checkInterimAlpha(interimAlpha, covers: selectionAxes[0].first!...selectionAxes[0].last!, kernelWidth: alphaKernelWidth,
                                       what: "the α axis")
        }
        for (name, v) in [("lens_warmup", lensWarmup), ("warmup", warmup)] where v < 0 {
            throw InvalidConfigValue(field: name, reason: "must be >= 0, got \(v)")
        }
        if refineRounds < 0 { throw InvalidConfigValue(field: "refine_rounds", reason: "must be >= 0, got \(refineRounds)") }
        if !(monteCarloTarget > 0) { throw InvalidConfigValue(field: "monte_carlo_target", reason: "must be > 0, got \(monteCarloTarget)") }
        for (name, v) in [("lens_draws", lensDraws), ("draws", draws), ("chains", chains), ("max_attempts", maxAttempts)] where v < 1 {
            throw InvalidConfigValue(field: name, reason: "must be >= 1, got \(v)")
        }
        if !["conditional", "kernel"].contains(alphaMarginal) {
            throw InvalidConfigValue(field: "alpha_marginal", reason: "must be conditional or kernel, got '\(alphaMarginal)'")
        }
        if conditionalDraws < 1 { throw InvalidConfigValue(field: "conditional_draws", reason: "must be >= 1, got \(conditionalDraws)") }
        if !(conditionalAlphaStep > 0) || conditionalAlphaStep > interimAlpha[1] - interimAlpha[0] {
            throw InvalidConfigValue(field: "conditional_alpha_step", reason: "must be > 0 and at most the interim_alpha width, got \(conditionalAlphaStep)")
        }
        if !["enclosed_mass", "halo_mass"].contains(lensCoordinates) {
            throw InvalidConfigValue(field: "lens_coordinates", reason: "must be enclosed_mass or halo_mass, got '\(lensCoordinates)'")
        }
        if !(1...15).contains(lensMaxTreeDepth) { throw InvalidConfigValue(field: "lens_max_tree_depth", reason: "must be in 1…15, got \(lensMaxTreeDepth)") }
    }

    /// interim_alpha must be > 0 and cover the hyperprior's α range ± 3 alpha_kernel_width.
    static func checkInterimAlpha(_ interim: [Double], covers alpha: ClosedRange<Double>, kernelWidth h: Double, what: String) throws {
        if interim[0] > alpha.lowerBound - 3 * h || interim[1] < alpha.upperBound + 3 * h || interim[0] <= 0 {
            throw InvalidConfigValue(field: "interim_alpha", reason: "must be > 0 and cover \(what) \(alpha.lowerBound)…\(alpha.upperBound) ± 3 alpha_kernel_width, got \(interim)")
        }
    }

    /// The mock's true hyperparameters (the others at `PopulationHyperparameters` defaults).
    public var trueHyperparameters: PopulationHyperparameters {
        var eta = PopulationHyperparameters()
        eta.inferred = [trueAlphaSps, trueHaloSlope, trueHaloNormalisation, trueHaloScatter]
        return eta
    }
}
