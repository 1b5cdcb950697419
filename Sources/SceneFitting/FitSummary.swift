import Astrometry
import Foundation
import Inference
import SceneModel

/// The catalog columns of a source, one layout for the chains in `results.h5`, the final
/// catalog's uncertainties and the postprocess summaries: the flux in every band (catalog flux
/// units, named by the band), `ra` and `dec` (deg), then for galaxies `q`, `pa` (rad), `sersic`
/// and `rhalf` (arcsec). Point sources have no shape columns.
public enum CatalogColumns {
    /// Column names for a source of this kind.
    public static func names(bands: [String], isPoint: Bool) -> [String] {
        bands + ["ra", "dec"] + (isPoint ? [] : ["q", "pa", "sersic", "rhalf"])
    }

    /// A source's values in `names` order (fluxes, ra, dec [deg], then the shape).
    public static func values(_ s: Source) -> [Double] {
        s.flux + [s.ra, s.dec] + (s.isPoint ? [] : [s.q, s.pa, s.sersic, s.rhalf])
    }

    /// The column a kernel parameter belongs to: a flux to its band's name, ξ to `ra`, η to
    /// `dec`, a shape parameter to its own name.
    public static func name(of p: SourceParameter, bands: [String]) -> String {
        switch p {
        case let .flux(b): return bands[b]
        case .xi: return "ra"
        case .eta: return "dec"
        default: return p.name
        }
    }
}

/// What one patch fit says about its active sources, in catalog terms: the fitted sources, the
/// chain draws as catalog rows, and a standard deviation per catalog column.
///
/// Uncertainties come from the draws when the fit sampled (at least two draws): the sample
/// standard deviation of each column, with `ra` and `dec` converted to **arcsec on the sky**
/// (ra as ΔRA·cos Dec at the fitted position). Otherwise from the Laplace covariance: the
/// unconstrained covariance mapped through the transforms' Jacobian at the optimum
/// (`ra`/`dec` then in the patch's tangent-plane arcsec, the same sky units).
public struct FitSummary: Sendable {
    /// Per active source: the fitted source (its final parameters, back on the sky).
    public var sources: [Source]
    /// True if `uncertainties` come from draws (and `draws` holds them), false for Laplace.
    public var fromDraws: Bool
    /// Per active source: draws × `CatalogColumns.names` values (ra/dec in degrees); empty
    /// when `fromDraws` is false.
    public var draws: [[[Double]]]
    /// Per active source: standard deviation per catalog column name.
    public var uncertainties: [[String: Double]]
    /// Per active source: flags about how its uncertainties were obtained
    /// (`.laplaceRegularised` for a regularised Laplace covariance; empty from draws).
    public var flags: [FitFlags]

    /// - Parameters:
    ///   - fit: the patch fit.
    ///   - posterior: the posterior it fitted (for the transforms of the Laplace case).
    ///   - plane: the patch's tangent plane.
    ///   - active: the active sources as checked out (ids and kinds, in kernel order).
    ///   - bands: band names, in flux-vector order.
    ///   - sampled: whether the fit sampled; draws are used only then, and only with ≥ 2 of them.
    public init(fit: PatchFitResult, posterior: PatchPosterior, plane: TangentPlane, active: [Source], bands: [String],
                sampled: Bool) {
        let kernel = posterior.kernel
        let layout = kernel.layout
        let finalSources = kernel.sources(from: fit.final)
        let updated = active.indices.map { finalSources[$0].source(id: active[$0].id, plane: plane) }
        sources = updated
        fromDraws = sampled && fit.chain.count >= 2
        draws = []
        uncertainties = []
        flags = Array(repeating: [], count: layout.sourceCount)
        if fromDraws {
            // Every draw's sources, decoded once for all active sources.
            let drawSources = fit.chain.map { kernel.sources(from: $0) }
            for s in 0..<layout.sourceCount {
                let names = CatalogColumns.names(bands: bands, isPoint: active[s].isPoint)
                let rows = drawSources.map { CatalogColumns.values($0[s].source(id: active[s].id, plane: plane)) }
                var u: [String: Double] = [:]
                for (j, name) in names.enumerated() {
                    let v = rows.map { $0[j] }
                    let m = v.reduce(0, +) / Double(v.count)
                    var sd = (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count - 1)).squareRoot()
                    if name == "ra" { sd *= 3600 * cos(updated[s].dec * .pi / 180) } else if name == "dec" { sd *= 3600 }
                    u[name] = sd
                }
                draws.append(rows)
                uncertainties.append(u)
            }
        } else {
            // Laplace: Σ_x = J Σ_y Jᵀ with J = ∂x/∂y at the optimum (diagonal but for the (q, pa)
            // block in ellipticity coordinates).
            let y = posterior.unconstrain(fit.final)
            for s in 0..<layout.sourceCount {
                var u: [String: Double] = [:]
                let n = layout.parameters(ofSource: s).count
                let J = posterior.jacobianBlock(source: s, at: y), C = fit.covariances[s]
                for (j, p) in layout.parameters(ofSource: s).enumerated() {
                    let row = (0..<n).filter { J[j * n + $0] != 0 }
                    let sd: Double
                    if row == [j] {  // an element-wise transform: |dx/dy| σ_y
                        sd = abs(J[j * n + j]) * C[j * n + j].squareRoot()
                    } else if row.isEmpty {  // nothing moves it here (pa of the roundest shape allowed): undefined
                        sd = .nan
                    } else {
                        var variance = 0.0
                        for a in row { for b in row { variance += J[j * n + a] * C[a * n + b] * J[j * n + b] } }
                        sd = variance.squareRoot()
                    }
                    u[CatalogColumns.name(of: p, bands: bands)] = sd
                }
                uncertainties.append(u)
                if s < fit.covarianceFlags.count { flags[s] = fit.covarianceFlags[s] }
            }
        }
    }
}
