import Astrometry
import Foundation
import SceneModel
import TesseraSupport
import XCTest
@testable import SceneFitting

/// Passes in the `SuperScene`: iterations count passes, and settled sources are not handed out.
final class SuperScenePassTests: XCTestCase {
    func line(_ n: Int, spacing: Double) -> [Source] {
        let plane = TangentPlane(ra0: 53, dec0: -27)
        return (0..<n).map { i in
            let s = plane.sky(xi: spacing * Double(i), eta: 0)
            return Source(id: Int64(i + 1), ra: s.ra, dec: s.dec, flux: [1])
        }
    }

    func testSettledSourcesAreNotCheckedOutAndCountAsDone() throws {
        // 0.8″ apart: neighbours within fixed_radius 1″ are the adjacent sources only.
        var scene = try SuperScene(sources: line(4, spacing: 0.8), targetIterations: 5, activeRadius: 0.1, fixedRadius: 1)
        XCTAssertEqual(scene.neighbours(of: 0), [1])
        XCTAssertEqual(scene.neighbours(of: 2), [1, 3])
        scene.settle([0, 1, 2])
        XCTAssertEqual(scene.doneCount, 3)
        XCTAssertTrue(scene.undone)
        let r = try XCTUnwrap(scene.checkout())
        XCTAssertEqual(r.active, [3])
        XCTAssertEqual(r.fixed, [2], "a settled neighbour is still subtracted")
        XCTAssertNil(scene.checkout(), "nothing else needs work")
        try scene.checkin(r, sources: [scene.sources[3]], covariances: [nil], iterations: 1)
        XCTAssertEqual(scene.iterations, [0, 0, 0, 1])
        scene.settle([0, 1, 2, 3])
        XCTAssertFalse(scene.undone)
        // Unsettling hands a source out again.
        scene.settle([0, 1, 3])
        XCTAssertEqual(try XCTUnwrap(scene.checkout()).active, [2])
    }
}
