/// The gradient of the selection table's multilinear ln A(η) with respect to the four inferred hyperparameters,
/// exact for the interpolant (not a finite difference): inside a grid cell ∂/∂x_k of the multilinear form is the
/// same corner sum with the weight of axis k replaced by ±1/(cell width). It is piecewise constant and jumps
/// across cell faces; on a face the cell to the right is used (as `logA` does). A singleton axis has zero gradient.
extension SelectionTable {
    /// (ln A(η), ∂ ln A / ∂(α_sps, halo slope, halo normalisation, halo scatter)).
    /// - Throws: `.invalidParameter` naming the hyperparameter outside the grid (as `logA`).
    public func logAWithGradient(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> (value: Double, gradient: [Double]) {
        let c = try cell(eta.inferred)
        let value = cornerSum(lo: c.lo) { k, up in up == 1 ? c.t[k] : 1 - c.t[k] }
        let gradient = (0..<4).map { d in
            axes[d].count == 1 ? 0 : cornerSum(lo: c.lo) { k, up in
                k == d ? (up == 1 ? 1 / c.width[k] : -1 / c.width[k]) : (up == 1 ? c.t[k] : 1 - c.t[k])
            }
        }
        return (value, gradient)
    }
}
