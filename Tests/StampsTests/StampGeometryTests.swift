import Stamps
import TesseraSupport
import XCTest

/// Stamp geometry, neighbour lists and friends-of-friends groups, against brute force and
/// hand-worked cases.
final class StampGeometryTests: XCTestCase {
    func testJacobianMapsPixelsToSkyAndBack() {
        let j = StampJacobian(row0: 10.3, col0: 9.7, dudrow: -0.1, dudcol: 0.25, dvdrow: 0.26, dvdcol: 0.05)
        let (u, v) = j.uv(row: 12.5, col: 4.25)
        XCTAssertEqual(u, -0.1 * 2.2 + 0.25 * -5.45, accuracy: 1e-12)
        XCTAssertEqual(v, 0.26 * 2.2 + 0.05 * -5.45, accuracy: 1e-12)
        let back = j.rowCol(u: u, v: v)
        XCTAssertEqual(back.row, 12.5, accuracy: 1e-12)
        XCTAssertEqual(back.col, 4.25, accuracy: 1e-12)
    }

    func testBoxesOverlapOnlyWithinTheBuffer() {
        let a = StampBox(rowStart: 0, colStart: 0, size: 8)
        let b = StampBox(rowStart: 0, colStart: 8, size: 8)   // touching edge, no shared pixel
        XCTAssertFalse(a.overlaps(b, buffer: 0))
        XCTAssertTrue(a.overlaps(b, buffer: 1))
        let c = StampBox(rowStart: 7, colStart: 7, size: 4)   // shares pixel (7, 7)
        XCTAssertTrue(a.overlaps(c, buffer: 0))
        let d = StampBox(rowStart: 11, colStart: 0, size: 4)  // 3-pixel gap in rows
        XCTAssertFalse(a.overlaps(d, buffer: 1))
        XCTAssertTrue(a.overlaps(d, buffer: 2))
    }

    func testSweepFindsTheSameNeighboursAsBruteForce() {
        var rng = RandomSource(seed: 7)
        let boxes = (0..<300).map { _ in
            StampBox(rowStart: Int(rng.uniform() * 800), colStart: Int(rng.uniform() * 800), size: 16 + Int(rng.uniform() * 32))
        }
        for buffer in [0, 3] {
            let list = NeighbourList.overlappingBoxes(boxes, buffer: buffer)
            var brute: [(Int, Int)] = []
            for i in boxes.indices { for j in boxes.indices where i < j && boxes[i].overlaps(boxes[j], buffer: buffer) { brute.append((i, j)) } }
            XCTAssertEqual(list, NeighbourList(count: boxes.count, pairs: brute))
            XCTAssertGreaterThan(list.rows.count, 50)  // the test has overlaps to find
        }
    }

    func testSegmentationNeighboursNameOtherObjectsOnly() {
        // Object 0's stamp holds seg ids 1 (itself), 3 (object 2) and 99 (no such object).
        let list = NeighbourList.segmentation(segIDs: [[0, 1, 3, 99], [0, 2], [3]], numbers: [1, 2, 3])
        XCTAssertEqual(list.neighbours, [[2], [], [0]])
    }

    func testFriendsOfFriendsGroupsAreChainsWithDeterministicIDs() {
        let pairs = [(5, 3), (1, 2), (3, 0), (6, 7)]
        let fof = FriendsOfFriends(NeighbourList(count: 8, pairs: pairs))
        XCTAssertEqual(fof.members, [[0, 3, 5], [1, 2], [4], [6, 7]])
        XCTAssertEqual(fof.groupOf, [0, 1, 1, 0, 2, 0, 3, 3])
        XCTAssertEqual(fof.blendedFraction, 7.0 / 8.0, accuracy: 1e-12)
        // Same links in another order: same groups and ids.
        XCTAssertEqual(FriendsOfFriends(NeighbourList(count: 8, pairs: pairs.reversed().map { ($0.1, $0.0) })), fof)
    }

    func testRenderedMixtureHasItsFluxAndConvolvedWidth() {
        let galaxy = SkyMixture.galaxy(flux: 500, u: 0.1, v: -0.05, g1: 0.2, g2: -0.1,
                                       profile: [(0.6, 0.3), (0.4, 0.6)])
        let psf = SkyMixture.gaussianPSF(fwhm: 0.9)
        let image = galaxy.convolved(with: psf)
        XCTAssertEqual(image.totalFlux, 500, accuracy: 1e-9)
        let j = StampJacobian(row0: 31.5, col0: 31.5, dudrow: 0, dudcol: 0.1, dvdrow: 0.1, dvdcol: 0)
        var pixels = [Double](repeating: 0, count: 64 * 64)
        image.render(into: &pixels, rows: 64, cols: 64, jacobian: j)
        let sum = pixels.reduce(0, +)
        XCTAssertEqual(sum, 500, accuracy: 0.5)
        // Second moment along u: Σ flux·cuu / flux of the convolved mixture (pixel centres are
        // sampled, not integrated, so no pixel-response term; the 6σ cut-off costs ~0.1%).
        var mu = 0.0, muu = 0.0
        for r in 0..<64 { for c in 0..<64 { let (u, _) = j.uv(row: Double(r), col: Double(c)); mu += pixels[r * 64 + c] * u; muu += pixels[r * 64 + c] * u * u } }
        mu /= sum; muu = muu / sum - mu * mu
        let expected = image.components.reduce(0) { $0 + $1.flux * $1.cuu } / 500
        XCTAssertEqual(mu, 0.1, accuracy: 1e-3)
        XCTAssertEqual(muu, expected, accuracy: 2e-3 * expected)
    }

    func testMockTileBlendsAreFoundByStampOverlap() throws {
        var settings = MockTileSettings()
        settings.objectCount = 14
        settings.epochCount = 2
        settings.boxSize = 24
        settings.blendedFraction = 0.5
        let tile = try MockStampTile.make(settings)
        XCTAssertEqual(tile.objects.count, 14)
        XCTAssertEqual(tile.stamps[0].count, 3)  // coadd + 2 epochs
        // Neighbours from the coadd footprints reproduce the placed blend groups exactly.
        let fof = FriendsOfFriends(NeighbourList.overlappingBoxes(tile.footprints.map { $0[0] }, buffer: 2))
        for i in tile.objects.indices {
            for j in tile.objects.indices {
                XCTAssertEqual(fof.groupOf[i] == fof.groupOf[j], tile.objects[i].truthGroup == tile.objects[j].truthGroup)
            }
        }
        XCTAssertEqual(fof.blendedFraction, 0.5, accuracy: 0.08)
        // Each single-epoch stamp holds the object's light: the sum over the stamp is its flux
        // (plus companions') within the noise, for an isolated object.
        let isolated = tile.objects.indices.first { i in fof.members[fof.groupOf[i]].count == 1 }!
        let stamp = tile.stamps[isolated][1]
        let sigma = tile.images[1].noiseSigma
        let sum = stamp.image.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(sum, tile.objects[isolated].flux, accuracy: 5 * sigma * Double(settings.boxSize) + 0.03 * tile.objects[isolated].flux)
        // Different epochs see the object through different Jacobians and PSFs.
        XCTAssertNotEqual(tile.stamps[isolated][1].jacobian.dudcol, tile.stamps[isolated][2].jacobian.dudcol)
        XCTAssertNotEqual(tile.stamps[isolated][1].psf, tile.stamps[isolated][2].psf)
        // The same settings give the same tile.
        XCTAssertEqual(try MockStampTile.make(settings).stamps, tile.stamps)
    }
}
