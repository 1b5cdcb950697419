import Astrometry
import Foundation
import TesseraTestSupport
import XCTest
import TesseraSupport
import SceneModel
@testable import SceneFitting

final class SuperSceneTests: XCTestCase {
    /// A crowded random field: positions within `side` arcsec, so neighbourhoods overlap.
    func field(_ n: Int, side: Double, seed: UInt64) -> [Source] {
        var rng = RandomSource(seed: seed)
        let plane = TangentPlane(ra0: 53, dec0: -27)
        return (0..<n).map { i in
            let s = plane.sky(xi: side * (rng.uniform() - 0.5), eta: side * (rng.uniform() - 0.5))
            return Source(id: Int64(i + 1), ra: s.ra, dec: s.dec, flux: [1])
        }
    }

    func testConcurrentRegionsNeverInfluenceEachOther() throws {
        var rng = RandomSource(seed: 9)
        for seed in 1...5 as ClosedRange<UInt64> {
            var scene = try SuperScene(sources: field(60, side: 8, seed: seed), targetIterations: 300, activeRadius: 0.8,
                                       fixedRadius: 2, maxActive: 5)
            var out: [SceneRegion] = []
            var checkins = 0
            while scene.undone {
                // Random interleaving of check-outs (up to 6 in flight) and check-ins.
                if out.count < 6, out.isEmpty || rng.uniform() < 0.6, let r = scene.checkout() {
                    for other in out {
                        let a = Set(r.active), f = Set(r.fixed), oa = Set(other.active), of = Set(other.fixed)
                        XCTAssertTrue(a.isDisjoint(with: oa) && a.isDisjoint(with: of) && f.isDisjoint(with: oa), "patch \(r.patchID) overlaps patch \(other.patchID)")
                    }
                    XCTAssertTrue(!r.active.isEmpty && r.active.count <= 5)
                    out.append(r)
                } else if !out.isEmpty {
                    let r = out.remove(at: Int(rng.uniform() * Double(out.count)))
                    try scene.checkin(r, sources: r.active.map { scene.sources[$0] }, covariances: r.active.map { _ in nil }, iterations: 100)
                    checkins += 1
                } else {
                    XCTFail("scene undone but nothing can be checked out with nothing in flight")
                    break
                }
            }
            XCTAssertTrue(scene.iterations.allSatisfy { $0 == 300 }, "every source reaches exactly its target")
            XCTAssertEqual(checkins, scene.patchesIssued)
        }
    }

    /// `staleNeighbours`: in a field where the strict rules let one region out at a time, a second region may
    /// hold fixed a source the first is fitting (and fit one the first holds fixed), but a source is never active
    /// in two regions, and every source still reaches its target.
    func testStaleNeighboursLetOverlappingRegionsOutTogether() throws {
        // Ten sources in 1.6″: every region holds every other source fixed.
        let sources = field(10, side: 1.6, seed: 3)
        var strict = try SuperScene(sources: sources, targetIterations: 200, activeRadius: 0.1, fixedRadius: 3, maxActive: 2)
        let first = try XCTUnwrap(strict.checkout())
        XCTAssertNil(strict.checkout(), "strict rules: the first region's fixed list covers every other source")
        try strict.checkin(first, sources: first.active.map { strict.sources[$0] }, covariances: first.active.map { _ in nil }, iterations: 100)

        var rng = RandomSource(seed: 5)
        var scene = try SuperScene(sources: sources, targetIterations: 200, activeRadius: 0.1, fixedRadius: 3, maxActive: 2)
        scene.staleNeighbours = true
        var out: [SceneRegion] = [], most = 0, overlapped = false
        while scene.undone {
            if out.count < 3, out.isEmpty || rng.uniform() < 0.6, let r = scene.checkout() {
                for other in out {
                    XCTAssertTrue(Set(r.active).isDisjoint(with: other.active), "patch \(r.patchID) shares an active source with \(other.patchID)")
                    if !Set(r.fixed).isDisjoint(with: other.active) { overlapped = true }
                }
                out.append(r)
                most = max(most, out.count)
            } else if !out.isEmpty {
                let r = out.remove(at: Int(rng.uniform() * Double(out.count)))
                try scene.checkin(r, sources: r.active.map { scene.sources[$0] }, covariances: r.active.map { _ in nil }, iterations: 100)
            } else {
                XCTFail("scene undone but nothing can be checked out with nothing in flight")
                break
            }
        }
        XCTAssertEqual(most, 3, "three regions out at once")
        XCTAssertTrue(overlapped, "a region held fixed a source another region in flight was fitting")
        XCTAssertTrue(scene.iterations.allSatisfy { $0 == 200 })
    }

    func testFewestIterationsFirstAndCheckinRules() throws {
        let sources = field(10, side: 30, seed: 2)  // sparse: mostly one source per region
        var scene = try SuperScene(sources: sources, targetIterations: 2, activeRadius: 0.5, fixedRadius: 1)
        let c0 = scene.checkout()
        let r0 = try XCTUnwrap(c0)
        try scene.checkin(r0, sources: r0.active.map { scene.sources[$0] }, covariances: r0.active.map { _ in [1] }, iterations: 1)
        // Every other source has 0 iterations, so the next seed is never r0's.
        let c1 = scene.checkout()
        let r1 = try XCTUnwrap(c1)
        XCTAssertFalse(r1.active.contains(r0.seed))
        assertThrows(SceneModelError.self) { try scene.checkin(r0, sources: [], covariances: [], iterations: 1) }
        scene.abandon(r1, flag: true)
        XCTAssertEqual(scene.flagged, Set(r1.active))
        assertThrows(SceneModelError.self) { try SuperScene(sources: [], targetIterations: 1, activeRadius: 1, fixedRadius: 1) }
    }
}
