import Foundation
import Inference
import SceneFitting
import SceneModel
import TesseraRun

/// The `passes:` mapping of the scene-fit configuration: how many times `optimize` refits every
/// source with its neighbours at their latest values, and when a source counts as converged
/// (ngmixer's MOF `min_itr`, `max_itr`, `maxabs_conv`, `maxfrac_conv`, `maxerr_conv`; the exact
/// rule is `PassConvergence`'s).
///
/// The parameters compared are a source's catalog columns with positions as sky offsets: the flux
/// in every band (catalog flux units), `ra` and `dec` as arcsec on the sky (ΔRA·cos Dec, ΔDec),
/// then `q`, `pa` (rad), `sersic` and `rhalf` (arcsec); the errors are the fit's (Laplace)
/// standard deviations in the same units. `sample` does not use these keys: its passes are
/// `target_iterations / draws_per_patch`.
public struct ScenePasses: Codable, Sendable, Equatable {
    public var min = 2
    public var max = 10
    public var maxabs = 1e-6
    public var maxfrac = 1e-3
    public var maxerr = 0.5
    /// The first pass fits every source's fluxes alone, its position and shape held at the
    /// catalog's; the passes after it fit everything. Why: a neighbour is subtracted at its
    /// current values, and a bright one whose catalog flux is 20% off leaves residuals of tens of
    /// σ that the sources beside it absorb by trading flux and swelling, into modes the later
    /// passes do not leave (GalSim crowded scene, seed 21: flux pull widths 2.8 / 2.7 from the
    /// catalog start, 0.87 / 1.36 from the same start with true fluxes). The pass counts towards
    /// `min` and `max`; `min` is at least 2 with it, so every source has at least one full fit.
    public var fluxesFirst = true
    public init() {}

    public enum CodingKeys: String, CodingKey, CaseIterable { case min, max, maxabs, maxfrac, maxerr, fluxesFirst = "fluxes_first" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        let d = Self()
        min = try c.decodeIfPresent(Int.self, forKey: .min) ?? d.min
        max = try c.decodeIfPresent(Int.self, forKey: .max) ?? d.max
        maxabs = try c.decodeIfPresent(Double.self, forKey: .maxabs) ?? d.maxabs
        maxfrac = try c.decodeIfPresent(Double.self, forKey: .maxfrac) ?? d.maxfrac
        maxerr = try c.decodeIfPresent(Double.self, forKey: .maxerr) ?? d.maxerr
        fluxesFirst = try c.decodeIfPresent(Bool.self, forKey: .fluxesFirst) ?? d.fluxesFirst
    }

    public func validate() throws {
        if min < 1 { throw InvalidConfigValue(field: "passes.min", reason: "must be >= 1") }
        if max < min { throw InvalidConfigValue(field: "passes.max", reason: "must be >= passes.min (\(min))") }
        if fluxesFirst && max < 2 {
            throw InvalidConfigValue(field: "passes.max", reason: "must be >= 2 with passes.fluxes_first (its first pass fits fluxes only)")
        }
        for (k, v) in [("maxabs", maxabs), ("maxfrac", maxfrac), ("maxerr", maxerr)] where !(v >= 0) {
            throw InvalidConfigValue(field: "passes.\(k)", reason: "must be >= 0")
        }
    }

    /// Whether a region whose active sources have had `passesDone` passes each is fitted for its
    /// fluxes alone: with `fluxesFirst`, when none of them has had a pass yet. A region that mixes
    /// new sources with refitted ones is fitted in full.
    public func fitsFluxesOnly(passesDone: [Int]) -> Bool {
        fluxesFirst && !passesDone.isEmpty && passesDone.allSatisfy { $0 == 0 }
    }

    /// Whether a region (its `active` and `fixed` source indices) may be fitted now: with
    /// `fluxesFirst`, a region whose active sources
    /// have all had a pass waits until every source it holds fixed has had its first pass too
    /// (or needs none: a source given up on). A region holding a source that has had no pass
    /// may always go, so the first pass always advances and the queue cannot stall. Without
    /// this, two workers let sources race ahead: on the GalSim crowded scene (seed 21) 46 of
    /// 198 check-outs under `mpirun -np 3` were full fits beside a neighbour still at its
    /// catalog flux (2 of 141 with one worker), and the flux pull widths were 2.92 / 2.68
    /// against 1.26 / 1.42 with one worker.
    public func mayFit(active: [Int], fixed: [Int], tracker: PassTracker) -> Bool {
        !fluxesFirst || active.contains { tracker.passes[$0] == 0 }
            || fixed.allSatisfy { tracker.passes[$0] >= 1 || !tracker.needsPass($0) }
    }

    /// The stopping rule (one tolerance for every parameter).
    public func rule() throws -> PassConvergence {
        try PassConvergence(minPasses: fluxesFirst ? Swift.max(min, 2) : min, maxPasses: max, maxAbs: [maxabs], maxFrac: [maxfrac], maxErr: maxerr)
    }

    /// The compared vector of a source: `CatalogColumns` order with ra/dec as arcsec offsets from
    /// (`ra0`, `dec0`) (the source's catalog position), so that the tolerances mean the same on
    /// the whole sky.
    static func values(_ s: Source, bands: [String], ra0: Double, dec0: Double) -> [Double] {
        var v = s.flux
        var dra = s.ra - ra0
        if dra > 180 { dra -= 360 } else if dra < -180 { dra += 360 }
        v += [dra * 3600 * cos(dec0 * .pi / 180), (s.dec - dec0) * 3600]
        if !s.isPoint { v += [s.q, s.pa, s.sersic, s.rhalf] }
        return v
    }

    /// The fit's standard deviations in `values` order (NaN where the fit gave none).
    static func errors(_ u: [String: Double], bands: [String], isPoint: Bool) -> [Double] {
        CatalogColumns.names(bands: bands, isPoint: isPoint).map { u[$0] ?? .nan }
    }
}
