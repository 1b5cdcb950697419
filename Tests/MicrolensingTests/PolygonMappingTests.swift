import Foundation
import XCTest
@testable import Microlensing

final class PolygonMappingTests: XCTestCase {
    /// Deposits one triangle into an n × n map and returns the map.
    private func deposit(_ t: [Double], imageArea: Double = 1, n: Int) -> [Double] {
        var acc = [Double](repeating: 0, count: n * n)
        var diff = [Double](repeating: 0, count: n * (n + 1))
        let d = TriangleDeposit()
        defer { d.deallocate() }
        acc.withUnsafeMutableBufferPointer { a in
            diff.withUnsafeMutableBufferPointer { df in
                d.deposit(t[0], t[1], t[2], t[3], t[4], t[5], imageArea: imageArea, n: n, into: a.baseAddress!,
                          rowDifferences: df.baseAddress!)
                TriangleDeposit.integrate(rowDifferences: df.baseAddress!, n: n, into: a.baseAddress!)
            }
        }
        return acc
    }

    /// Fraction of pixel (c, r) inside the triangle, by point sampling on a k × k sub-grid: an
    /// independent estimate of the overlap that the clipping computes exactly.
    private func sampledCoverage(_ t: [Double], column c: Int, row r: Int, k: Int = 64) -> Double {
        func side(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ px: Double, _ py: Double) -> Double {
            (bx - ax) * (py - ay) - (by - ay) * (px - ax)
        }
        var inside = 0
        for i in 0..<k {
            for j in 0..<k {
                let px = Double(c) + (Double(j) + 0.5) / Double(k), py = Double(r) + (Double(i) + 0.5) / Double(k)
                let s0 = side(t[0], t[1], t[2], t[3], px, py), s1 = side(t[2], t[3], t[4], t[5], px, py)
                let s2 = side(t[4], t[5], t[0], t[1], px, py)
                if (s0 >= 0 && s1 >= 0 && s2 >= 0) || (s0 <= 0 && s1 <= 0 && s2 <= 0) { inside += 1 }
            }
        }
        return Double(inside) / Double(k * k)
    }

    private func triangleArea(_ t: [Double]) -> Double {
        0.5 * abs((t[2] - t[0]) * (t[5] - t[1]) - (t[4] - t[0]) * (t[3] - t[1]))
    }

    /// Small triangles (both orientations, inside one pixel or across several, or partly off
    /// the map): each pixel gets imageArea × overlap/area, the overlap checked by point sampling;
    /// a triangle inside the map deposits exactly its image area.
    func testClippedDepositsMatchSampledOverlaps() {
        var rng = SystemRandomNumberGenerator()
        let n = 8
        for trial in 0..<60 {
            var t = (0..<6).map { _ in Double.random(in: -1.5...7.5, using: &rng) }
            if trial % 3 == 0 {   // a small one, often inside a single pixel
                let cx = Double.random(in: 0.2...7.8, using: &rng), cy = Double.random(in: 0.2...7.8, using: &rng)
                t = (0..<6).map { (($0 % 2 == 0) ? cx : cy) + Double.random(in: -0.3...0.3, using: &rng) }
            }
            let area = triangleArea(t)
            guard area > 0.05, max(t[0], t[2], t[4]) - min(t[0], t[2], t[4]) <= TriangleDeposit.exactSpan,
                  max(t[1], t[3], t[5]) - min(t[1], t[3], t[5]) <= TriangleDeposit.exactSpan else { continue }
            let acc = deposit(t, imageArea: 2.5, n: n)
            var sampled = 0.0
            for r in 0..<n {
                for c in 0..<n {
                    let cover = sampledCoverage(t, column: c, row: r)
                    sampled += cover
                    XCTAssertEqual(acc[r * n + c], 2.5 * cover / area, accuracy: 2.5 * 0.03 / area + 1e-12,
                                   "trial \(trial), pixel (\(c), \(r)), triangle \(t)")
                }
            }
            let inside = [t[0], t[2], t[4], t[1], t[3], t[5]].allSatisfy { $0 >= 0 && $0 <= Double(n) }
            if inside { XCTAssertEqual(acc.reduce(0, +), 2.5, accuracy: 1e-12, "triangle \(t)") }
            XCTAssertEqual(acc.reduce(0, +), 2.5 * sampled / area, accuracy: 2.5 * 0.02 * max(1, sampled) / area)
        }
    }

    /// A triangle spanning many pixels (a cell next to a star) is spread by rows: its total is
    /// its image area to the midpoint rule's accuracy, and the spread follows its shape.
    func testLargeTrianglesAreSpreadByRows() {
        let n = 64
        let t = [3.2, 5.1, 60.7, 20.3, 15.4, 58.9]
        let acc = deposit(t, imageArea: 0.5, n: n)
        XCTAssertEqual(acc.reduce(0, +), 0.5, accuracy: 0.5 * 0.01)
        let weight = 0.5 / triangleArea(t)
        for (c, r) in [(20, 25), (30, 20), (16, 45)] {   // interior pixels
            XCTAssertEqual(acc[r * n + c], weight, accuracy: 1e-12 + weight * 1e-9)
        }
        XCTAssertEqual(acc[2 * n + 40], 0)   // outside
        // Partly off the map: only the part inside is kept.
        let off = deposit([-30, 10, 30, 10, 0, 40], imageArea: 1, n: n)
        XCTAssertEqual(off.reduce(0, +), 0.5, accuracy: 0.01)
    }

    /// No stars, shear and smooth matter only: the lens mapping is linear, the triangles tile
    /// the pre-image exactly, and every pixel is μ_th to float precision, for minima, saddles
    /// (flipped triangles) and maxima, with one grid square per unlensed pixel.
    func testSmoothOnlyPolygonMapIsExactlyTheoretical() throws {
        for (k, g) in [(0.3, 0.2), (0.6, 0.5), (1.5, 0.2), (0.0, 0.0)] {
            let m = try makeMagnificationMap(model: MacroModel(kappa: k, gamma: g, smoothFraction: 1),
                                             settings: MapSettings(sizeRE: 4, pixels: 20, rayDensity: .perSourcePixel(1),
                                                                   method: .polygonMapping))
            XCTAssertEqual(m.method, .polygonMapping)
            let mu = m.theoreticalMagnification
            for v in m.pixels { XCTAssertEqual(Double(v) / mu, 1, accuracy: 1e-5, "κ=\(k) γ=\(g)") }
        }
    }

    /// One unit star, no shear: polygon mapping with 4 grid squares per pixel against the pixel
    /// average of Paczyński's μ(u) = (u² + 2)/(u√(u² + 4)), far tighter than ray shooting with
    /// 100 rays per pixel (`RayShooterTests`: 12% worst, 3% mean).
    func testSingleStarPolygonMapMatchesPointLens() throws {
        let result = pointLensErrors(try singleStarShooter(raysPerPixel: 4).makePolygonMap(), starX: 0.01, starY: 0.02)
        print("single star, polygon mapping at 4 squares per pixel: mean |error| \(result.meanAbs), worst \(result.worst)")
        XCTAssertLessThan(result.worst, 0.02)
        XCTAssertLessThan(result.meanAbs, 0.003)
    }

    /// A star field near the critical line: polygon mapping with 1 square per pixel has the
    /// mean of ray shooting on the same grid and far less pixel noise against a 100-rays-per-
    /// pixel reference map; threads change it only by rounding.
    func testPolygonMapAgreesWithRayShootingAndIsQuieter() throws {
        let model = try MacroModel(kappa: 0.45, gamma: 0.45, smoothFraction: 0.5)
        let acc = DeflectionAccuracy(order: 8, starsPerCell: 1)
        func settings(_ rays: Double, _ method: MapMethod) -> MapSettings {
            MapSettings(sizeRE: 5, pixels: 50, rayDensity: .perSourcePixel(rays), seed: 3, lightLoss: 0.05, accuracy: acc,
                        method: method)
        }
        let reference = try makeMagnificationMap(model: model, settings: settings(100, .rayShooting))
        let irs = try makeMagnificationMap(model: model, settings: settings(16, .rayShooting))
        let ipm = try makeMagnificationMap(model: model, settings: settings(1, .polygonMapping))
        func rms(_ m: MagnificationMap) -> Double {
            var sum = 0.0
            for (a, b) in zip(m.pixels, reference.pixels) {
                let rel = Double(a) / Double(b) - 1
                sum += rel * rel
            }
            return (sum / Double(m.pixels.count)).squareRoot()
        }
        print("pixel rms against 100 rays/px: ray shooting 16/px \(rms(irs)), polygon mapping 1/px \(rms(ipm)); "
              + "means \(irs.relativeMeanError), \(ipm.relativeMeanError), reference \(reference.relativeMeanError)")
        XCTAssertLessThan(rms(ipm), 0.5 * rms(irs))
        XCTAssertEqual(ipm.mean / reference.mean, 1, accuracy: 0.003)
        let threaded = try makeMagnificationMap(model: model, settings: settings(1, .polygonMapping), threads: 3)
        for (a, b) in zip(threaded.pixels, ipm.pixels) { XCTAssertEqual(Double(a), Double(b), accuracy: 1e-5 * Double(b) + 1e-9) }
    }

    /// The smooth-matter bound of `RayShooterTests`: for a minimum no pixel is below
    /// 1/(1 − κ_s)². Without counting noise, polygon mapping meets it to its discretisation.
    func testPolygonMapKeepsTheMinimumMagnificationBound() throws {
        let model = try MacroModel(kappa: 0.3, gamma: 0.2, smoothFraction: 0.5)
        let m = try makeMagnificationMap(model: model, settings: MapSettings(sizeRE: 10, pixels: 20, rayDensity: .perSourcePixel(4),
                                                                             seed: 1, lightLoss: 0.003, method: .polygonMapping))
        let bound = model.minimumPositiveParityMagnification!
        print("polygon map minimum / bound: \(Double(m.pixels.min()!) / bound)")
        XCTAssertGreaterThanOrEqual(Double(m.pixels.min()!), bound * 0.995)
    }
}
