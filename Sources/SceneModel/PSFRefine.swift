import Foundation

extension PSFFitter {
    /// One component's refinement parameters: θ = (log A, x, y, log l₁₁, l₂₁, log l₂₂) with A the
    /// amplitude in image flux units, (x, y) the absolute pixel position of the mean and L the
    /// Cholesky factor of the *intrinsic* covariance Σ = L Lᵀ — so A > 0 and Σ is positive
    /// definite for every θ. The rendered covariance is Σ + I/12.
    struct RefineParameters: Equatable {
        var theta: [Double]

        init(theta: [Double]) { self.theta = theta }

        init(_ c: GaussianComponent) {
            let l11 = c.cxx.squareRoot()
            let l21 = c.cxy / l11
            let l22 = max(c.cyy - l21 * l21, 1e-300).squareRoot()
            theta = [log(c.amplitude), c.x, c.y, log(l11), l21, log(l22)]
        }

        var component: GaussianComponent {
            let l11 = exp(theta[3]), l21 = theta[4], l22 = exp(theta[5])
            return GaussianComponent(amplitude: exp(theta[0]), x: theta[1], y: theta[2],
                                     cxx: l11 * l11, cxy: l11 * l21, cyy: l21 * l21 + l22 * l22)
        }

        /// Model value of this component at pixel (px, py), and its derivatives with respect to θ.
        func valueAndGradient(_ px: Double, _ py: Double) -> (Double, [Double]) {
            let l11 = exp(theta[3]), l21 = theta[4], l22 = exp(theta[5])
            let a = exp(theta[0])
            let cxx = l11 * l11 + 1.0 / 12, cxy = l11 * l21, cyy = l21 * l21 + l22 * l22 + 1.0 / 12
            let det = cxx * cyy - cxy * cxy
            let pxx = cyy / det, pxy = -cxy / det, pyy = cxx / det  // C⁻¹
            let dx = px - theta[1], dy = py - theta[2]
            let wx = pxx * dx + pxy * dy, wy = pxy * dx + pyy * dy  // C⁻¹ d
            let n = exp(-0.5 * (dx * wx + dy * wy)) / (2 * Double.pi * det.squareRoot())
            let m = a * n
            // ∂N/∂C for the symmetric parametrisation (cxy enters both off-diagonal entries).
            let dCxx = 0.5 * (wx * wx - pxx), dCyy = 0.5 * (wy * wy - pyy), dCxy = wx * wy - pxy
            return (m, [m, m * wx, m * wy,
                        m * (dCxx * 2 * l11 * l11 + dCxy * l11 * l21),
                        m * (dCxy * l11 + dCyy * 2 * l21),
                        m * (dCyy * 2 * l22 * l22)])
        }
    }

    /// Levenberg–Marquardt (multiplicative damping of diag(JᵀJ)) on the sum of squared pixel
    /// residuals. Only steps that lower it are taken; stops after `maxIterations` accepted steps,
    /// when a step lowers it by less than a relative 1e-12, or when the damping exceeds 1e12.
    static func levenbergMarquardt(_ start: [RefineParameters], image: PSFImage, maxIterations: Int)
        -> (components: [RefineParameters], steps: Int)
    {
        let k = start.count, np = 6 * k
        let n = image.width * image.height
        func residuals(_ ps: [RefineParameters], jacobian: Bool) -> (r: [Double], ssr: Double, j: [Double]) {
            var r = [Double](repeating: 0, count: n)
            var jac = [Double](repeating: 0, count: jacobian ? n * np : 0)
            var ssr = 0.0
            for y in 0..<image.height {
                for x in 0..<image.width {
                    let i = y * image.width + x
                    var m = 0.0
                    for (c, p) in ps.enumerated() {
                        let (v, g) = p.valueAndGradient(Double(x), Double(y))
                        m += v
                        if jacobian { for q in 0..<6 { jac[i * np + 6 * c + q] = g[q] } }
                    }
                    r[i] = image.values[i] - m
                    ssr += r[i] * r[i]
                }
            }
            return (r, ssr, jac)
        }
        var current = start
        var (r, ssr, jac) = residuals(current, jacobian: true)
        var lambda = 1e-3
        var steps = 0
        while steps < maxIterations && lambda < 1e12 {
            // Normal equations JᵀJ and Jᵀr.
            var jtj = [Double](repeating: 0, count: np * np)
            var jtr = [Double](repeating: 0, count: np)
            for i in 0..<n {
                let row = i * np
                for a in 0..<np {
                    let ja = jac[row + a]
                    if ja == 0 { continue }
                    jtr[a] += ja * r[i]
                    for b in 0...a { jtj[a * np + b] += ja * jac[row + b] }
                }
            }
            for a in 0..<np { for b in 0..<a { jtj[b * np + a] = jtj[a * np + b] } }
            var improved = false
            while lambda < 1e12 {
                var m = jtj
                for a in 0..<np { m[a * np + a] += lambda * max(jtj[a * np + a], 1e-300) }
                guard let delta = solveSymmetricPositiveDefinite(m, jtr, n: np) else { lambda *= 10; continue }
                let trial = (0..<k).map { c in RefineParameters(theta: (0..<6).map { current[c].theta[$0] + delta[6 * c + $0] }) }
                guard trial.allSatisfy({ $0.theta.allSatisfy(\.isFinite) }) else { lambda *= 10; continue }
                let t = residuals(trial, jacobian: false)
                if t.ssr < ssr {
                    let relative = (ssr - t.ssr) / ssr
                    current = trial
                    (r, ssr, jac) = residuals(current, jacobian: true)
                    lambda = max(lambda / 10, 1e-12)
                    steps += 1
                    improved = true
                    if relative < 1e-12 { return (current, steps) }
                    break
                }
                lambda *= 10
            }
            if !improved { break }
        }
        return (current, steps)
    }

    /// Solves A x = b for a symmetric positive-definite n × n A (row-major) by Cholesky; nil if A
    /// is not numerically positive definite.
    static func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for q in 0..<j { s -= l[i * n + q] * l[j * n + q] }
                if i == j {
                    guard s > 0, s.isFinite else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        var y = b
        for i in 0..<n {
            for q in 0..<i { y[i] -= l[i * n + q] * y[q] }
            y[i] /= l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for q in (i + 1)..<n { y[i] -= l[q * n + i] * y[q] }
            y[i] /= l[i * n + i]
        }
        return y
    }
}
