import Foundation
import SceneModel
import StampFitting
import Stamps

/// The MOF benchmark of issue 13: a mock multi-epoch tile (`MockStampTile`, about 40% of the
/// objects in blended groups of 2–3) fitted with MOF and with isolated maximum-likelihood fits,
/// compared with the truth, and the fitting speed of both.
///
/// Groups are the friends-of-friends groups of overlapping coadd stamps (the `stamps` method of
/// `tessera meds groups`, buffer 0), as a batch run forms them. Reported, separately for objects in
/// groups of ≥ 2 ("blended") and alone ("isolated"): rms of (flux − truth), median and robust width
/// (1.4826 × MAD) of the pull (flux − truth)/flux_err; the fraction of groups whose members all
/// converged within `maxPasses`; passes per group; and objects per second on one core (one thread:
/// the fits are serial here) for isolated ML on 48² stamps and for MOF on the tile.
/// Per-object rows go to OUT.csv when an output path is given. Environment overrides for
/// comparisons: MOF_JOINT_MAX (`jointStartMaxMembers`; 0 = stamp-sum starts), MOF_FINISH_MAX
/// (`jointFinishMaxMembers`; 0 = keep the pass values), MOF_MAXERR (`maxErr`), MOF_EXTRAPOLATE (0 = plain passes, no `PassExtrapolation`), MOF_MARGINAL (0 = errors conditional on
/// the neighbours), MOF_ONLY_SIZES (comma-separated group sizes to fit, e.g. "3" for the triplets
/// alone; the other objects are left out of every figure and of OUT.csv), MOF_SERSIC_FIXED (n held
/// within ±0.001 of this value, as ngmix's `exp` model at 1), MOCK_SHARED_NOISE (0 = independent noise per cutout, the tile of earlier
/// versions), MOCK_BOX (stamp side, pixels) and MOCK_BLENDED (the tile's blended fraction, for quick runs on blends only).
enum MOFTileBenchmark {
    static func run(objects: Int, seed: UInt64, speedObjects: Int, output: String?) {
        do {
            try runThrowing(objects: objects, seed: seed, speedObjects: speedObjects, output: output)
        } catch {
            print("mof benchmark failed: \(error)")
            exit(1)
        }
    }

    struct Row {
        var truth: MockTileObject
        var groupSize: Int
        /// The FoF group's index.
        var group: Int
        var ml: ObjectFit
        var mof: ObjectFit
    }

    static func runThrowing(objects: Int, seed: UInt64, speedObjects: Int, output: String?) throws {
        var s = MockTileSettings()
        s.objectCount = objects
        s.seed = seed
        if let shared = ProcessInfo.processInfo.environment["MOCK_SHARED_NOISE"] { s.sharedNoise = shared != "0" }
        if let blended = ProcessInfo.processInfo.environment["MOCK_BLENDED"].flatMap(Double.init) { s.blendedFraction = blended }
        if let box = ProcessInfo.processInfo.environment["MOCK_BOX"].flatMap(Int.init) { s.boxSize = box }
        let tile = try MockStampTile.make(s)
        let boxes = tile.footprints.map { $0[0] }
        let fof = FriendsOfFriends(NeighbourList.overlappingBoxes(boxes, buffer: 0))
        let sersic = try SersicMixture.bundled()
        var settings = StampFitSettings()
        if let marginal = ProcessInfo.processInfo.environment["MOF_MARGINAL"] { settings.marginalErrors = marginal == "1" }
        if let joint = ProcessInfo.processInfo.environment["MOF_JOINT_MAX"].flatMap(Int.init) { settings.jointStartMaxMembers = joint }
        if let finish = ProcessInfo.processInfo.environment["MOF_FINISH_MAX"].flatMap(Int.init) { settings.jointFinishMaxMembers = finish }
        if let maxErr = ProcessInfo.processInfo.environment["MOF_MAXERR"].flatMap(Double.init) { settings.maxErr = maxErr }
        if let extrapolate = ProcessInfo.processInfo.environment["MOF_EXTRAPOLATE"] { settings.extrapolatePasses = extrapolate != "0" }
        if let n = ProcessInfo.processInfo.environment["MOF_SERSIC_FIXED"].flatMap(Double.init) {
            settings.startSersic = n
            settings.bounds.sersic = (n - 1e-3)...(n + 1e-3)
        }
        let onlySizes = ProcessInfo.processInfo.environment["MOF_ONLY_SIZES"].map { Set($0.split(separator: ",").compactMap { Int($0) }) }
        func members(_ group: [Int]) -> [GroupMember] {
            group.map { i in
                let o = tile.objects[i]
                return GroupMember(index: i, object: StampObject(id: o.id, number: o.number, ra: o.ra, dec: o.dec,
                                                                 boxSize: s.boxSize, epochCount: s.epochCount + 1),
                                   epochs: tile.stamps[i])
            }
        }
        print("mof benchmark: \(objects) objects, seed \(seed), \(fof.groupCount) FoF groups "
              + "(\(fof.members.filter { $0.count > 1 }.count) of ≥ 2; \(String(format: "%.1f", 100 * fof.blendedFraction))% of objects blended), "
              + "\(s.epochCount) epochs of \(s.boxSize)² pixels")

        var ml = [ObjectFit?](repeating: nil, count: objects)
        var mof = [ObjectFit?](repeating: nil, count: objects)
        var mofSeconds = 0.0, mlSeconds = 0.0
        var groupPasses: [Int] = []
        var groupsConverged = 0, multiGroups = 0
        for (g, group) in fof.members.enumerated() where onlySizes?.contains(group.count) ?? true {
            let m = members(group)
            var t = Date()
            for f in try StampFitter.fit(group: m, kind: .mof, settings: settings, sersic: sersic, seed: UInt64(g)) { mof[f.index] = f }
            mofSeconds += Date().timeIntervalSince(t)
            t = Date()
            for f in try StampFitter.fit(group: m, kind: .maxLikelihood, settings: settings, sersic: sersic, seed: UInt64(g)) { ml[f.index] = f }
            mlSeconds += Date().timeIntervalSince(t)
            if group.count > 1 {
                multiGroups += 1
                let fits = group.map { mof[$0]! }
                groupPasses.append(fits.map(\.passes).max() ?? 0)
                if fits.allSatisfy({ $0.converged && $0.flags & StampFitFlags.notConverged == 0 }) { groupsConverged += 1 }
            }
        }
        let rows = (0..<objects).compactMap { i -> Row? in
            guard let ml = ml[i], let mof = mof[i] else { return nil }
            return Row(truth: tile.objects[i], groupSize: fof.members[fof.groupOf[i]].count, group: fof.groupOf[i], ml: ml, mof: mof)
        }
        for (label, blended) in [("blended", true), ("isolated", false)] {
            let sel = rows.filter { ($0.groupSize > 1) == blended }
            for (name, pick) in [("mof", { (r: Row) in r.mof }), ("max_likelihood", { (r: Row) in r.ml })] as [(String, (Row) -> ObjectFit)] {
                let pairs = sel.compactMap { r -> (Double, Double)? in
                    let f = pick(r)
                    guard let flux = f.source?.flux[0], let err = f.errors["flux"], err > 0, err.isFinite else { return nil }
                    return (flux - r.truth.flux, err)
                }
                let diffs = pairs.map(\.0), pulls = pairs.map { $0.0 / $0.1 }
                let rms = (diffs.map { $0 * $0 }.reduce(0, +) / Double(max(diffs.count, 1))).squareRoot()
                let fracRMS = (sel.compactMap { r -> Double? in
                    guard let flux = pick(r).source?.flux[0] else { return nil }
                    let d = flux / r.truth.flux - 1
                    return d * d
                }.reduce(0, +) / Double(max(sel.count, 1))).squareRoot()
                print(String(format: "  %-8@ %-14@ n=%4d  rms(flux−truth)=%8.2f  rms frac=%.4f  pull median=%+.3f  robust width=%.3f  |pull|>5: %d",
                             label as NSString, name as NSString, pairs.count, rms, fracRMS, median(pulls), robustWidth(pulls),
                             pulls.filter { abs($0) > 5 }.count))
            }
        }
        let passesSorted = groupPasses.sorted()
        print(String(format: "  MOF groups of ≥ 2: %d, all members converged within %d passes: %d (%.2f%%); passes per group: median %d, max %d",
                     multiGroups, settings.maxPasses, groupsConverged, 100 * Double(groupsConverged) / Double(max(multiGroups, 1)),
                     passesSorted.isEmpty ? 0 : passesSorted[passesSorted.count / 2], passesSorted.last ?? 0))
        print(String(format: "  MOF on the tile: %.1f s for %d objects = %.2f objects/s/core; isolated ML on the same stamps: %.2f objects/s/core",
                     mofSeconds, objects, Double(objects) / mofSeconds, Double(objects) / mlSeconds))

        if let output {
            var text = "id,group_size,truth_flux,truth_rhalf,ml_flux,ml_flux_err,ml_flags,mof_flux,mof_flux_err,mof_passes,mof_converged,mof_flags,mof_sersic,mof_rhalf,ml_sersic,ml_rhalf,mof_chi2,ml_chi2,pixels,truth_g1,truth_g2,truth_u,truth_v,group\n"
            for r in rows {
                func v(_ x: Double?) -> String { x.map { String($0) } ?? "nan" }
                text += [String(r.truth.id), String(r.groupSize), v(r.truth.flux), v(r.truth.halfLightRadius),
                         v(r.ml.source?.flux[0]), v(r.ml.errors["flux"]), String(r.ml.flags),
                         v(r.mof.source?.flux[0]), v(r.mof.errors["flux"]), String(r.mof.passes), r.mof.converged ? "1" : "0",
                         String(r.mof.flags), v(r.mof.source?.sersic), v(r.mof.source?.rhalf),
                         v(r.ml.source?.sersic), v(r.ml.source?.rhalf), v(r.mof.chi2), v(r.ml.chi2), String(r.mof.pixels),
                         v(r.truth.g1), v(r.truth.g2), v(r.truth.u), v(r.truth.v), String(r.group)].joined(separator: ",") + "\n"
            }
            try text.write(toFile: output, atomically: true, encoding: .utf8)
            print("  per-object rows → \(output)")
        }

        // Speed of isolated ML on 48² stamps (no blends), one core.
        if speedObjects > 0 {
            var q = MockTileSettings()
            q.objectCount = speedObjects
            q.blendedFraction = 0
            q.boxSize = 48
            q.seed = seed &+ 1
            let iso = try MockStampTile.make(q)
            let t = Date()
            for i in 0..<speedObjects {
                let o = iso.objects[i]
                let m = GroupMember(index: i, object: StampObject(id: o.id, number: o.number, ra: o.ra, dec: o.dec, boxSize: 48,
                                                                   epochCount: q.epochCount + 1), epochs: iso.stamps[i])
                _ = try StampFitter.fit(group: [m], kind: .maxLikelihood, settings: settings, sersic: sersic, seed: UInt64(i))
            }
            let dt = Date().timeIntervalSince(t)
            print(String(format: "  isolated ML on 48² stamps (%d epochs): %d objects in %.1f s = %.2f objects/s/core",
                         q.epochCount, speedObjects, dt, Double(speedObjects) / dt))
        }
    }

    static func median(_ x: [Double]) -> Double {
        guard !x.isEmpty else { return .nan }
        let s = x.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// 1.4826 × the median absolute deviation: σ for a Gaussian, insensitive to a few outliers.
    static func robustWidth(_ x: [Double]) -> Double {
        let m = median(x)
        return 1.4826 * median(x.map { abs($0 - m) })
    }
}
