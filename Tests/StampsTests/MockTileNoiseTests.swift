import Stamps
import XCTest

/// The mock tile's cutouts are cut from common images: where two neighbours' stamps of the same
/// image overlap, they hold the same pixels — the same value (light and noise), weight and mask.
/// With noise drawn per cutout (the tile of earlier versions, `sharedNoise = false`) every stamp
/// was a separate observation of a blend, and MOF's fixed point (each member fitted on its own
/// stamps) scattered ~3× more than its errors said.
final class MockTileNoiseTests: XCTestCase {
    /// Values of every image pixel that the cutouts `c` of objects i and j both hold, in pairs.
    private func shared(_ tile: MockStampTile, _ i: Int, _ j: Int, _ c: Int) -> [(Float, Float, Int32?, Int32?)] {
        let a = tile.footprints[i][c], b = tile.footprints[j][c]
        let n = tile.settings.boxSize
        var pairs: [(Float, Float, Int32?, Int32?)] = []
        for r in max(a.rowStart, b.rowStart)..<min(a.rowStart, b.rowStart) + n {
            for col in max(a.colStart, b.colStart)..<min(a.colStart, b.colStart) + n {
                let pa = (r - a.rowStart) * n + col - a.colStart, pb = (r - b.rowStart) * n + col - b.colStart
                pairs.append((tile.stamps[i][c].image[pa], tile.stamps[j][c].image[pb],
                              tile.stamps[i][c].bmask?[pa], tile.stamps[j][c].bmask?[pb]))
            }
        }
        return pairs
    }

    func testOverlappingCutoutsShareTheirPixels() throws {
        var settings = MockTileSettings()
        settings.objectCount = 2
        settings.blendedFraction = 1
        settings.epochCount = 2
        settings.boxSize = 16
        settings.badPixelFraction = 0.05
        let tile = try MockStampTile.make(settings)
        XCTAssertEqual(tile.objects[0].truthGroup, tile.objects[1].truthGroup)
        for c in 0..<3 {
            let pairs = shared(tile, 0, 1, c)
            XCTAssertGreaterThan(pairs.count, 50, "cutout \(c): the pair's stamps should overlap")
            // Light and noise agree to float rounding (the noise σ is ~1 count).
            let worst = pairs.map { abs(Double($0.0) - Double($0.1)) }.max() ?? .infinity
            XCTAssertLessThan(worst, 1e-3, "cutout \(c)")
            XCTAssertTrue(pairs.allSatisfy { $0.2 == $0.3 }, "cutout \(c): masks differ")
        }
        // Drawn per cutout, the same pixels differ by ~√2 σ.
        settings.sharedNoise = false
        let own = try MockStampTile.make(settings)
        let differences = shared(own, 0, 1, 1).map { abs(Double($0.0) - Double($0.1)) }
        XCTAssertGreaterThan(differences.reduce(0, +) / Double(differences.count), 0.5)
    }
}
