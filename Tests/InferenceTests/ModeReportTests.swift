import Inference
import TesseraSupport
import XCTest

/// The separated-mode report: two well-separated modes with known weights are found with those weights and the
/// chains that sit in each; one Gaussian is one mode; two overlapping bumps without a deep dip merge.
final class ModeReportTests: XCTestCase {
    func draws(_ n: Int, mean: Double, sd: Double, stream: UInt64) -> [Double] {
        var rng = RandomSource(seed: 3, stream: stream)
        return (0..<n).map { _ in mean + sd * rng.normal() }
    }

    func testTwoSeparatedModesWithTheirWeights() {
        // Chains 0–2 in the mode at 2 (3 × 700 draws), chain 3 in the mode at −3 (900 draws): weights 0.7 and 0.3.
        let chains = [draws(700, mean: 2, sd: 0.5, stream: 0), draws(700, mean: 2, sd: 0.5, stream: 1),
                      draws(700, mean: 2, sd: 0.5, stream: 2), draws(900, mean: -3, sd: 0.5, stream: 3)]
        let report = ModeReport.find(chains)
        XCTAssertEqual(report.modes.count, 2)
        XCTAssertTrue(report.isMultimodal)
        XCTAssertEqual(report.modes[0].location, -3, accuracy: 0.2)
        XCTAssertEqual(report.modes[1].location, 2, accuracy: 0.2)
        XCTAssertEqual(report.modes[0].weight, 0.3, accuracy: 0.005)
        XCTAssertEqual(report.modes[1].weight, 0.7, accuracy: 0.005)
        XCTAssertEqual(report.modes[0].chains, [3])
        XCTAssertEqual(report.modes[1].chains, [0, 1, 2])
        XCTAssertEqual(report.modes[0].upper, report.modes[1].lower)
        XCTAssertNil(report.modes[0].lower)
        XCTAssertNil(report.modes[1].upper)
        XCTAssertTrue((-1.5...0.5).contains(report.modes[0].upper ?? .nan), "the dip lies between the modes")
    }

    func testOneGaussianIsOneMode() {
        let report = ModeReport.find((0..<4).map { draws(500, mean: 1, sd: 2, stream: UInt64(10 + $0)) })
        XCTAssertEqual(report.modes.count, 1)
        XCTAssertEqual(report.modes[0].weight, 1)
        XCTAssertEqual(report.modes[0].chains, [0, 1, 2, 3])
        XCTAssertEqual(report.modes[0].location, 1, accuracy: 0.8, "the peak of a sd-2 Gaussian's estimate is flat")
    }

    func testOverlappingBumpsWithoutADeepDipMerge() {
        // Two unit Gaussians 1.5 apart: the mixture has no dip below half the peaks.
        let report = ModeReport.find([draws(2000, mean: 0, sd: 1, stream: 20), draws(2000, mean: 1.5, sd: 1, stream: 21)])
        XCTAssertEqual(report.modes.count, 1)
    }
}
