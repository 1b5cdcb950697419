import RealModule

/// What a population likelihood needs of the selection normalisation: ln A(η) over the four inferred
/// hyperparameters, and the version of the table it comes from (recorded by runs, refused on mismatch).
public protocol SelectionNormalisation: Sendable {
    var version: String { get }
    /// ln A(η). Throws `.invalidParameter` naming a hyperparameter outside the table's box.
    func logA(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> Double
    /// (ln A(η), ∂ ln A / ∂(α_sps, halo slope, halo normalisation, halo scatter)), analytic for both
    /// implementations (the multilinear grid's piecewise gradient, the interpolant's exact one).
    func logAWithGradient(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> (value: Double, gradient: [Double])
    /// The box of η the normalisation covers, (lower, upper) per inferred coordinate: also the support of a
    /// uniform hyperprior, since A(η) is unknown outside it.
    var box: (lower: [Double], upper: [Double]) { get }
}

extension SelectionTable: SelectionNormalisation {
    public var box: (lower: [Double], upper: [Double]) { (axes.map { $0.first! }, axes.map { $0.last! }) }
}

/// ln A(η) interpolated smoothly (`RadialBasisInterpolant`, C²) through Monte Carlo estimates at scattered η
/// nodes: what `tessera selection build` produces (its file: `SelectionTableFile` in LensingRuns).
///
/// Each node's ln A comes from `selected` of `draws` Monte Carlo draws (`SelectionFunction`, common random
/// numbers); its binomial error on ln A is σ = √((1 − A)/(A n)) (delta method). The build stops when every
/// node's leave-one-out error is within `toleranceFactor` · σ — the interpolant then adds no more error than the
/// Monte Carlo already has — or when the point budget is spent (`converged` false).
public struct InterpolatedSelection: SelectionNormalisation, Equatable {
    public var version: String
    /// The η nodes, each (α_sps, halo slope, halo normalisation, halo scatter).
    public var nodes: [[Double]]
    public var selected: [Int]
    public var draws: Int
    public var lower: [Double], upper: [Double]
    public var toleranceFactor: Double
    public let interpolant: RadialBasisInterpolant

    static let names = ["alphaSPS", "haloSlope", "haloNormalisation", "haloScatter"]

    /// - Throws: `.invalidParameter` for a node with no selected draw (ln A = −∞: raise `draws` or shrink the
    ///   box), mismatched sizes, or an interpolant that cannot be built.
    public init(version: String, nodes: [[Double]], selected: [Int], draws: Int, lower: [Double], upper: [Double],
                toleranceFactor: Double) throws(LensInferenceError) {
        guard lower.count == 4, upper.count == 4 else {
            throw .invalidParameter(name: "box", value: Double(lower.count), allowed: "4 lower and 4 upper bounds")
        }
        guard selected.count == nodes.count, draws > 0 else {
            throw .invalidParameter(name: "selected", value: Double(selected.count), allowed: "one count per node, draws > 0")
        }
        var logs: [Double] = []
        for (k, node) in zip(selected, nodes) {
            guard k > 0, k <= draws else {
                throw .invalidParameter(name: "selected", value: Double(k),
                                        allowed: "1...\(draws) at η = \(node): A(η) = 0 there; raise draws or shrink the box")
            }
            logs.append(Double.log(Double(k) / Double(draws)))
        }
        self.version = version
        self.nodes = nodes
        self.selected = selected
        self.draws = draws
        self.lower = lower
        self.upper = upper
        self.toleranceFactor = toleranceFactor
        interpolant = try RadialBasisInterpolant(nodes: nodes, values: logs, lower: lower, upper: upper)
    }

    /// σ(ln A) of `k` selected out of `n`: √((1 − A)/(A n)).
    public static func logSigma(selected k: Int, draws n: Int) -> Double {
        let a = Double(k) / Double(n)
        return ((1 - a) / (a * Double(n))).squareRoot()
    }

    /// Per node: σ(ln A) from the binomial error.
    public var logSigmas: [Double] { selected.map { Self.logSigma(selected: $0, draws: draws) } }
    /// Per node: the tolerance on the leave-one-out error, `toleranceFactor` · σ(ln A).
    public var tolerances: [Double] { logSigmas.map { toleranceFactor * $0 } }
    public var converged: Bool { SelectionDesign.converged(errors: interpolant.leaveOneOutErrors, tolerances: tolerances) }
    /// max_i |e_i| / σ_i: the tolerance factor achieved (compare with `toleranceFactor`).
    public var achievedFactor: Double { SelectionDesign.worstRatio(errors: interpolant.leaveOneOutErrors, tolerances: logSigmas) }

    func check(_ x: [Double]) throws(LensInferenceError) {
        for k in 0..<4 where !(x[k] >= lower[k] && x[k] <= upper[k]) {
            throw .invalidParameter(name: Self.names[k], value: x[k], allowed: "inside the selection table [\(lower[k]), \(upper[k])]")
        }
    }

    public func logA(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> Double {
        let x = eta.inferred
        try check(x)
        return interpolant.value(x)
    }

    public var box: (lower: [Double], upper: [Double]) { (lower, upper) }

    public func logAWithGradient(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> (value: Double, gradient: [Double]) {
        (try logA(eta), try logAGradient(eta))
    }

    /// ∂ ln A / ∂(α_sps, halo slope, halo normalisation, halo scatter), analytic (the interpolant's).
    public func logAGradient(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> [Double] {
        let x = eta.inferred
        try check(x)
        return interpolant.gradient(x)
    }

    /// The estimated interpolation error of ln A at η: the leave-one-out error of the nearest node.
    public func logAError(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> Double {
        let x = eta.inferred
        try check(x)
        return interpolant.errorEstimate(x)
    }
}
