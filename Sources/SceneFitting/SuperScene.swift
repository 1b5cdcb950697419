import Astrometry
import Foundation
import SceneModel
import TesseraSupport

/// A sub-region checked out of the `SuperScene`: the sources a worker fits (*active*) and the
/// sources whose light reaches its pixels but which stay at their current values (*fixed*).
/// Indices refer to the scene's source list.
public struct SceneRegion: Codable, Sendable, Equatable {
    /// Sequential patch number (0, 1, 2, … in checkout order across the whole run, resumes included).
    public var patchID: Int
    /// The seed source the region was grown from.
    public var seed: Int
    public var active: [Int]
    public var fixed: [Int]
}

/// The global parameter state of a scene, held by the rank-0 master (forcepho's SuperScene):
/// current source values, the latest posterior covariance per source, how many sampling
/// iterations each source has received, and which sources are checked out right now.
///
/// Checkout rules, so that regions out at the same time never influence each other:
/// - a source is active in at most one region;
/// - a source active in one region is neither active nor fixed in any other;
/// - a source may be fixed in several regions (it does not change while they run).
/// Sources with the fewest iterations seed regions first; the scene is done (`undone` false)
/// once every source not given up has reached `targetIterations` or is `settled`. With one
/// iteration per check-in, iterations count passes: `optimize` sets `targetIterations` to its
/// most passes and settles sources as they converge.
///
/// Distances are tangent-plane separations in arcsec about the scene centre, computed from the
/// sources' *starting* positions (sources move by ≪ an arcsec, and fixed geometry keeps the
/// checkout sequence reproducible).
public struct SuperScene: Sendable {
    public private(set) var sources: [Source]
    /// Starting values (the catalog); position bounds are taken around these.
    public let initial: [Source]
    /// Latest covariance per source in the sampler's unconstrained space (row-major square
    /// block of the source's parameter count), nil until a fit produced one.
    public private(set) var covariances: [[Double]?]
    public private(set) var iterations: [Int]
    /// Sources given up on (their regions failed too often); they stay fixed at their last values.
    public private(set) var flagged: Set<Int> = []
    /// Sources that need no more work before `targetIterations` (optimize's passes: converged
    /// with their neighbours, see `PassTracker`); set by the runner after every check-in.
    public private(set) var settled: Set<Int> = []
    public let targetIterations: Int
    /// Sources within this distance (arcsec) of the seed become active together.
    public let activeRadius: Double
    /// Sources within this distance (arcsec) of any active source, and not active, are fixed.
    public let fixedRadius: Double
    /// Most active sources per region (the nearest to the seed are kept).
    public let maxActive: Int
    /// Per source, how far (arcsec) from an active source's centre its light must be modelled:
    /// that source's region-of-interest radius plus its own light's reach (`lightReach`). A
    /// source j is also fixed in a region when it lies within `roi[a] + reach[j]` of an active
    /// source a, whatever `fixedRadius` says, because light of a source left out of the model
    /// but falling on the fitted pixels is taken up by the active sources and biases their
    /// fluxes high (issue 16: with roi 1″ and fixed_radius 1.5″ on the own-model mock, the
    /// optimum's flux pulls had median +0.24σ; fixing every source whose light reaches the
    /// pixels brought it to +0.12σ). Empty: `fixedRadius` alone decides.
    public let roi: [Double]
    public let reach: [Double]
    /// A galaxy's fitted pixels follow its current size: its region-of-interest radius is
    /// max(roi, `roiRHalfMultiple` × its current r_half), at most `roiMax` arcsec (0: `roi` alone).
    /// Why: with r_half and n free and the pixels fixed at 1″, a large galaxy's wings fall outside
    /// its own fit but inside its neighbours', which take its light up (issue 16, GalSim crowded
    /// scene seed 21: source 3, r_half 0.58″ and n 2.8, came out 28% faint, pull −8.4, while two
    /// faint neighbours doubled their flux and r_half).
    public var roiRHalfMultiple = 0.0
    public var roiMax = 3.0
    /// Lets regions in flight overlap: a source may be held fixed in one region while another region
    /// fits it, at the values it was checked in with last (asynchronous, "stale" neighbours), so the
    /// second checkout rule above keeps only its first half; a source is still active in one region at
    /// a time. Why: in a crowded field every region holds nearly every other source fixed (GalSim
    /// crowded scene seed 21: a median 23 of 29), so with the strict rules two workers ran one region
    /// at a time for 95% of `sample`'s wall time. The price is that a region's neighbours may lag by
    /// the patches in flight beside it (Jacobi- rather than Gauss–Seidel-like passes), and the order
    /// of check-ins, already unrepeatable with several workers, changes the values a region sees.
    public var staleNeighbours = false
    public let plane: TangentPlane
    /// Patch numbers handed out so far.
    public private(set) var patchesIssued: Int

    let positions: [(Double, Double)]
    var activeNow: Set<Int> = []
    var fixedNow: [Int: Int] = [:]
    public private(set) var outstanding: [Int: SceneRegion] = [:]

    public init(sources: [Source], targetIterations: Int, activeRadius: Double, fixedRadius: Double,
                maxActive: Int = 15, patchesIssued: Int = 0, roi: [Double] = [], reach: [Double] = []) throws {
        guard !sources.isEmpty else { throw SceneModelError.invalidArgument("the scene has no sources") }
        guard (roi.isEmpty && reach.isEmpty) || (roi.count == sources.count && reach.count == sources.count) else {
            throw SceneModelError.dimensionMismatch(what: "roi and light reach per source", expected: sources.count, got: min(roi.count, reach.count))
        }
        self.roi = roi
        self.reach = reach
        guard targetIterations >= 0, activeRadius >= 0, fixedRadius >= 0, maxActive >= 1 else {
            throw SceneModelError.invalidArgument("target iterations, radii must be ≥ 0 and max active ≥ 1")
        }
        self.sources = sources
        self.initial = sources
        self.covariances = Array(repeating: nil, count: sources.count)
        self.iterations = Array(repeating: 0, count: sources.count)
        self.targetIterations = targetIterations
        self.activeRadius = activeRadius
        self.fixedRadius = fixedRadius
        self.maxActive = maxActive
        self.patchesIssued = patchesIssued
        let ra = sources.map(\.ra), dec = sources.map(\.dec)
        // Centre: mean Dec, circular mean RA.
        let sx = ra.reduce(0) { $0 + _cosDeg($1) }, sy = ra.reduce(0) { $0 + _sinDeg($1) }
        var ra0 = _atan2Deg(sy, sx)
        if ra0 < 0 { ra0 += 360 }
        let plane = TangentPlane(ra0: ra0, dec0: dec.reduce(0, +) / Double(dec.count))
        self.plane = plane
        self.positions = sources.map { let o = plane.offsets(ra: $0.ra, dec: $0.dec); return (o.xi, o.eta) }
    }

    /// Restores a saved state (used by `--resume`).
    public mutating func restore(sources: [Source], covariances: [[Double]?], iterations: [Int],
                                 flagged: Set<Int>, patchesIssued: Int) throws {
        guard sources.count == self.sources.count, covariances.count == sources.count, iterations.count == sources.count else {
            throw SceneModelError.dimensionMismatch(what: "saved scene state", expected: self.sources.count, got: sources.count)
        }
        self.sources = sources
        self.covariances = covariances
        self.iterations = iterations
        self.flagged = flagged
        self.patchesIssued = patchesIssued
    }

    public var count: Int { sources.count }

    /// Gives sources up before fitting (e.g. outside every exposure); they keep their catalog values.
    public mutating func flag(_ indices: [Int]) {
        for i in indices where sources.indices.contains(i) { flagged.insert(i) }
    }
    /// Replaces the set of sources that need no more work (their iteration counts stay as they are).
    public mutating func settle(_ indices: Set<Int>) { settled = indices.filter { sources.indices.contains($0) } }

    /// True while some source not given up still needs iterations.
    public var undone: Bool { (0..<count).contains { needsWork($0) } }
    public var doneCount: Int { (0..<count).filter { iterations[$0] >= targetIterations || settled.contains($0) }.count }

    /// Sources within `fixedRadius` of source `i` (those whose light can reach its pixels), in
    /// index order.
    public func neighbours(of i: Int) -> [Int] {
        (0..<count).filter { $0 != i && distance(i, $0) <= fixedRadius }
    }

    /// True if source j must be in the model of a region in which source a is active: within
    /// `fixedRadius`, or its light reaches a's fitted pixels (`roi`, `reach`).
    func lightReaches(from j: Int, to a: Int) -> Bool {
        let d = distance(a, j)
        return d <= fixedRadius || (!reach.isEmpty && d <= regionROI(a) + reach[j])
    }

    /// The region-of-interest radius (arcsec) of source a when it is active now: `roi[a]`, or
    /// more for a galaxy whose current r_half asks for it (`roiRHalfMultiple`, capped at `roiMax`,
    /// never below `roi[a]`); 0 when the scene was made without `roi` (then `fixedRadius` alone decides).
    public func regionROI(_ a: Int) -> Double {
        guard !roi.isEmpty else { return 0 }
        guard roiRHalfMultiple > 0, !sources[a].isPoint else { return roi[a] }
        return max(roi[a], min(roiMax, roiRHalfMultiple * sources[a].rhalf))
    }

    /// How far (arcsec) the light of a source matters: `rhalfMultiple` half-light radii (major
    /// axis) plus `psfMargin` arcsec; a point source only the margin. With the default 8 r_half
    /// the Gaussian-mixture Sérsic profiles hold all but a few per cent of their light inside
    /// (n = 4) and essentially all of it for n ≤ 2.
    public static func lightReach(of s: Source, rhalfMultiple: Double = 8, psfMargin: Double = 0.5) -> Double {
        (s.isPoint ? 0 : rhalfMultiple * s.rhalf) + psfMargin
    }

    func distance(_ a: Int, _ b: Int) -> Double {
        let dx = positions[a].0 - positions[b].0, dy = positions[a].1 - positions[b].1
        return (dx * dx + dy * dy).squareRoot()
    }

    func needsWork(_ i: Int) -> Bool { !flagged.contains(i) && !settled.contains(i) && iterations[i] < targetIterations }

    /// Checks out the best available region, or nil if every source needing work is blocked by
    /// regions in flight (or none needs work). Seeds are taken fewest iterations first, then
    /// brightest first (summed flux): a bright source fitted beside faint neighbours at poor
    /// values is barely moved by them, while a faint one fitted beside a bright neighbour at
    /// poor values absorbs its residuals. On four GalSim crowded scenes (120 sources, seeds
    /// 21–24) this order took the optimize flux pull widths from 1.86 / 1.99 (catalog order)
    /// to 1.66 / 1.67 (F150W / F200W).
    ///
    /// `eligible` can refuse a region (its seed is then passed over for now), e.g. `optimize`'s
    /// full fits of sources whose neighbours have not yet had their fluxes-only pass.
    public mutating func checkout(where eligible: (SceneRegion) -> Bool = { _ in true }) -> SceneRegion? {
        let candidates = (0..<count).filter { needsWork($0) && !activeNow.contains($0) && (staleNeighbours || fixedNow[$0] == nil) }
            .sorted { (iterations[$0], -brightness($0), $0) < (iterations[$1], -brightness($1), $1) }
        for seed in candidates {
            if let region = regionIfAvailable(seed: seed), eligible(region) {
                for a in region.active { activeNow.insert(a) }
                for f in region.fixed { fixedNow[f, default: 0] += 1 }
                outstanding[region.patchID] = region
                patchesIssued += 1
                return region
            }
        }
        return nil
    }

    /// A source's summed flux over the bands (catalog units), for the order of `checkout`.
    func brightness(_ i: Int) -> Double { sources[i].flux.reduce(0, +) }

    func regionIfAvailable(seed: Int) -> SceneRegion? {
        var active = (0..<count).filter {
            distance(seed, $0) <= activeRadius && needsWork($0) && !activeNow.contains($0) && (staleNeighbours || fixedNow[$0] == nil)
        }.sorted { (distance(seed, $0), $0) < (distance(seed, $1), $1) }
        if active.count > maxActive { active = Array(active.prefix(maxActive)) }
        active.sort()
        let activeSet = Set(active)
        var fixed: [Int] = []
        for j in 0..<count where !activeSet.contains(j) {
            if active.contains(where: { lightReaches(from: j, to: $0) }) {
                if activeNow.contains(j) && !staleNeighbours { return nil }  // would be influenced by a region in flight
                fixed.append(j)
            }
        }
        return SceneRegion(patchID: patchesIssued, seed: seed, active: active, fixed: fixed)
    }

    /// Writes a fitted region back: new values, covariances, and `iterations` more iterations
    /// for every active source.
    public mutating func checkin(_ region: SceneRegion, sources updated: [Source], covariances: [[Double]?],
                                 iterations added: Int) throws {
        guard outstanding.removeValue(forKey: region.patchID) != nil else {
            throw SceneModelError.invalidArgument("patch \(region.patchID) is not checked out")
        }
        guard updated.count == region.active.count, covariances.count == region.active.count else {
            throw SceneModelError.dimensionMismatch(what: "check-in of patch \(region.patchID)", expected: region.active.count, got: updated.count)
        }
        release(region)
        for (k, i) in region.active.enumerated() {
            sources[i] = updated[k]
            if let c = covariances[k] { self.covariances[i] = c }
            iterations[i] += added
        }
    }

    /// Returns a region to the pool without changes (its fit failed); with `flag`, its active
    /// sources are given up and stay at their current values.
    public mutating func abandon(_ region: SceneRegion, flag: Bool) {
        guard outstanding.removeValue(forKey: region.patchID) != nil else { return }
        release(region)
        if flag { for a in region.active { flagged.insert(a) } }
    }

    mutating func release(_ region: SceneRegion) {
        for a in region.active { activeNow.remove(a) }
        for f in region.fixed {
            if let n = fixedNow[f], n > 1 { fixedNow[f] = n - 1 } else { fixedNow[f] = nil }
        }
    }
}

func _cosDeg(_ x: Double) -> Double { cos(x * .pi / 180) }
func _sinDeg(_ x: Double) -> Double { sin(x * .pi / 180) }
func _atan2Deg(_ y: Double, _ x: Double) -> Double { atan2(y, x) * 180 / .pi }
