/// The gradient of the selection table's multilinear ln A(η) with respect to the four inferred hyperparameters,
/// exact for the interpolant (not a finite difference): inside a grid cell ∂/∂x_k of the multilinear form is the
/// same corner sum with the weight of axis k replaced by ±1/(cell width). It is piecewise constant and jumps
/// across cell faces; on a face the cell to the right is used (as `logA` does). A singleton axis has zero gradient.
extension SelectionTable {
    /// (ln A(η), ∂ ln A / ∂(α_sps, halo slope, halo normalisation, halo scatter)).
    /// - Throws: `.invalidParameter` naming the hyperparameter outside the grid (as `logA`).
    public func logAWithGradient(_ eta: PopulationHyperparameters) throws(LensInferenceError) -> (value: Double, gradient: [Double]) {
        let value = try logA(eta)  // also checks the bounds
        let x = eta.inferred
        var lo = [Int](repeating: 0, count: 4), t = [Double](repeating: 0, count: 4), width = [Double](repeating: 1, count: 4)
        let n = axes.map(\.count)
        for k in 0..<4 where n[k] > 1 {
            let ax = axes[k]
            var i = 0
            while i < ax.count - 2 && ax[i + 1] <= x[k] { i += 1 }
            lo[k] = i
            width[k] = ax[i + 1] - ax[i]
            t[k] = (x[k] - ax[i]) / width[k]
        }
        var gradient = [Double](repeating: 0, count: 4)
        for d in 0..<4 where n[d] > 1 {
            var sum = 0.0
            for corner in 0..<16 {
                var w = 1.0, index = 0
                for k in 0..<4 {
                    let up = (corner >> k) & 1
                    if n[k] == 1 && up == 1 { w = 0; break }
                    if k == d { w *= up == 1 ? 1 / width[k] : -1 / width[k] } else { w *= up == 1 ? t[k] : 1 - t[k] }
                    index = index * n[k] + lo[k] + up
                }
                if w != 0 { sum += w * logA[index] }
            }
            gradient[d] = sum
        }
        return (value, gradient)
    }
}
