import SceneModel
import StampFitting
import Stamps
import XCTest

/// The stamp fitters on small mock tiles (`MockStampTile`, whose truth is known exactly): an
/// isolated object's flux within its error and the MOF pass bookkeeping (passes, converged, flag 8). Small stamps and one epoch keep each test
/// fast in a debug build.
final class StampFitterTests: XCTestCase {
    static let sersic = Result { try SersicMixture.bundled() }
    /// Two PSF components (the mock's PSFs have two), plain MOF passes: the debug build is slow.
    static var fast: StampFitSettings {
        var s = StampFitSettings()
        s.psfComponents = 2
        s.jointStartMaxMembers = 0
        s.jointFinishMaxMembers = 0
        s.marginalErrors = false
        return s
    }

    /// A tile of `objects` objects, all blended (`blended` true) or all alone, one 24² epoch.
    private func tile(objects: Int, blended: Bool, seed: UInt64) throws -> MockStampTile {
        var s = MockTileSettings()
        s.objectCount = objects
        s.blendedFraction = blended ? 1 : 0
        s.epochCount = 1
        s.boxSize = 16
        s.psfFWHMRange = 0.9...0.9
        s.badPixelFraction = 0
        s.seed = seed
        return try MockStampTile.make(s)
    }

    private func members(_ tile: MockStampTile, _ indices: [Int]) -> [GroupMember] {
        indices.map { i in
            let o = tile.objects[i]
            return GroupMember(index: i, object: StampObject(id: o.id, number: o.number, ra: o.ra, dec: o.dec,
                                                             boxSize: tile.settings.boxSize,
                                                             epochCount: tile.stamps[i].count),
                               epochs: tile.stamps[i])
        }
    }

    /// The two members of a one-pair tile, checked to be one blend.
    private func blendedPair(seed: UInt64) throws -> [GroupMember] {
        let t = try tile(objects: 2, blended: true, seed: seed)
        XCTAssertEqual(t.objects[0].truthGroup, t.objects[1].truthGroup)
        return members(t, [0, 1])
    }

    private func pull(_ fit: ObjectFit, _ truth: MockTileObject) throws -> Double {
        let flux = try XCTUnwrap(fit.source?.flux.first)
        let err = try XCTUnwrap(fit.errors["flux"])
        XCTAssertTrue(err > 0 && err.isFinite)
        return (flux - truth.flux) / err
    }

    /// An isolated object: its flux within 3.5 standard errors of the truth, an error of the size
    /// the pixel noise implies (σ_F ≈ σ_pix·√(4π r²_eff) inflated by the free shape, ~1–4% of
    /// these fluxes for unit noise on one epoch; bounded to 0.1–8%), one pass, converged, no flags.
    func testIsolatedObjectFluxWithinItsError() throws {
        let t = try tile(objects: 1, blended: false, seed: 3)
        let fits = try StampFitter.fit(group: members(t, [0]), kind: .maxLikelihood, settings: Self.fast,
                                       sersic: Self.sersic.get(), seed: 1)
        let f = try XCTUnwrap(fits.first)
        XCTAssertEqual(f.flags, 0)
        XCTAssertEqual(f.passes, 1)
        XCTAssertTrue(f.converged)
        let p = try pull(f, t.objects[0])
        XCTAssertLessThan(abs(p), 3.5, "flux \(f.source!.flux[0]) ± \(f.errors["flux"]!) vs truth \(t.objects[0].flux)")
        let rel = f.errors["flux"]! / t.objects[0].flux
        XCTAssertTrue(rel > 0.001 && rel < 0.08, "relative flux error \(rel)")
        // MOF on a group of one is the same single fit.
        let mof = try StampFitter.fit(group: members(t, [0]), kind: .mof, settings: Self.fast,
                                      sersic: Self.sersic.get(), seed: 1)
        XCTAssertEqual(mof.first?.source?.flux, f.source?.flux)
        XCTAssertEqual(mof.first?.passes, 1)
    }

    /// Bookkeeping on a blended pair (no joint start or marginal errors, to stay fast): with
    /// tolerances any change meets, both members stop at `minPasses` = 2, converged, no flag 8;
    /// with tolerances no change can meet and `maxPasses` = 2, both stop at exactly 2 passes, not
    /// converged, with flag 8 and still a fitted source.
    func testPassBookkeepingAndNotConvergedFlag() throws {
        let group = try blendedPair(seed: 5)
        var loose = Self.fast
        loose.minPasses = 2
        loose.maxPasses = 2
        loose.maxErr = 1e12
        let ok = try StampFitter.fit(group: group, kind: .mof, settings: loose, sersic: Self.sersic.get(), seed: 1)
        for f in ok {
            XCTAssertEqual(f.passes, 2)
            XCTAssertTrue(f.converged)
            XCTAssertEqual(f.flags & StampFitFlags.notConverged, 0)
        }
        var strict = loose
        strict.maxAbs = [0]
        strict.maxFrac = [0]
        strict.maxErr = 0
        let capped = try StampFitter.fit(group: group, kind: .mof, settings: strict, sersic: Self.sersic.get(), seed: 1)
        for f in capped {
            XCTAssertEqual(f.passes, 2)
            XCTAssertFalse(f.converged)
            XCTAssertEqual(f.flags & StampFitFlags.notConverged, StampFitFlags.notConverged)
            XCTAssertNotNil(f.source)
        }
    }

    /// MOF passes with squared extrapolation (`StampFitSettings.extrapolatePasses`) on a close
    /// pair whose plain passes creep (conditional errors, no joint start: the tolerance is
    /// strict): both meet the 0.1σ rule, the extrapolated passes in at most 70% as many passes
    /// (plain passes alone would need 100%), and both end at the same fluxes within 0.5σ (a jump
    /// that landed elsewhere would not). Measured on seed 8: 16 plain passes, 10 extrapolated.
    func testExtrapolatedPassesConvergeSoonerToTheSameFluxes() throws {
        let group = try blendedPair(seed: 8)
        var plain = Self.fast
        plain.maxPasses = 30
        plain.extrapolatePasses = false
        var fast = plain
        fast.extrapolatePasses = true
        let slow = try StampFitter.fit(group: group, kind: .mof, settings: plain, sersic: Self.sersic.get(), seed: 1)
        let quick = try StampFitter.fit(group: group, kind: .mof, settings: fast, sersic: Self.sersic.get(), seed: 1)
        XCTAssertTrue((slow + quick).allSatisfy(\.converged), "\((slow + quick).map(\.passes))")
        let plainPasses = try XCTUnwrap(slow.map(\.passes).max()), fastPasses = try XCTUnwrap(quick.map(\.passes).max())
        XCTAssertGreaterThanOrEqual(plainPasses, 14, "the pair must be one where plain passes creep")
        XCTAssertLessThanOrEqual(Double(fastPasses), 0.7 * Double(plainPasses), "plain \(plainPasses), extrapolated \(fastPasses)")
        for (q, p) in zip(quick, slow) {
            let sigma = try XCTUnwrap(p.errors["flux"])
            XCTAssertLessThan(abs(q.source!.flux[0] - p.source!.flux[0]) / sigma, 0.5)
        }
    }

    /// The joint finish of a three-galaxy blend (21 parameters on each member's stamp): its
    /// optimiser converges (no flag 4 on any member), and the group's total flux, which the
    /// blend determines even where the split between members is poorly determined, is within 4σ
    /// of the truth. Before the optimiser was scaled by each parameter's width
    /// (`curvatureScales`) every member here carried flag 4, as every 21-parameter fit on the
    /// 2000-object tile did (stopped at 300 iterations with ‖∇ log p‖∞ of 5–20, up to 18 short in
    /// log p). (This tight triplet on one small epoch is a hard one: its middle member, 432
    /// counts, comes out with negative flux and its neighbour with three times its own; the
    /// split is what the MOF benchmark's pulls measure, not this test.)
    func testTripletJointFinishConverges() throws {
        let t = try tile(objects: 9, blended: true, seed: 4)
        let groups = Dictionary(grouping: t.objects.indices, by: { t.objects[$0].truthGroup })
        let triplet = try XCTUnwrap(groups.values.first { $0.count == 3 }, "the tile must hold a triplet").sorted()
        var settings = Self.fast
        settings.jointFinishMaxMembers = 3
        settings.maxPasses = 3  // the finish is what is tested; its passes never converge here anyway
        let fits = try StampFitter.fit(group: members(t, triplet), kind: .mof, settings: settings, sersic: Self.sersic.get(), seed: 1)
        for (f, i) in zip(fits, triplet) {
            XCTAssertEqual(f.flags & StampFitFlags.optimizerNotConverged, 0, "object \(i): flags \(f.flags)")
        }
        let total = try fits.map { try XCTUnwrap($0.source?.flux.first) }.reduce(0, +)
        let sigma = try fits.map { try XCTUnwrap($0.errors["flux"]) }.map { $0 * $0 }.reduce(0, +).squareRoot()
        let truth = triplet.map { t.objects[$0].flux }.reduce(0, +)
        XCTAssertLessThan(abs(total - truth), 4 * sigma, "total \(total), truth \(truth)")
    }
}
