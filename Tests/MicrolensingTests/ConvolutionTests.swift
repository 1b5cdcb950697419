import TesseraSupport
import XCTest
@testable import Microlensing

final class ConvolutionTests: XCTestCase {
    private func rayMap() throws -> MagnificationMap {
        try makeMagnificationMap(model: MacroModel(kappa: 0.4, gamma: 0.3, smoothFraction: 0.3),
                                 settings: MapSettings(sizeRE: 8, pixels: 40, rayDensity: .perSourcePixel(16), seed: 2))
    }

    private func randomMap(_ n: Int) throws -> MagnificationMap {
        var g = RandomSource(seed: 21)
        let px = (0..<(n * n)).map { _ in Float(1 + 5 * g.uniform()) }
        return MagnificationMap(geometry: try MapGeometry(sizeRE: Double(n) * 0.1, pixels: n), pixels: px,
                                model: try MacroModel(kappa: 0.3, gamma: 0.2), starCount: 0, seed: nil, raysShot: 0,
                                raysPerPixelUnlensed: 1)
    }

    func testTinySourceLeavesMapUnchanged() throws {
        let m = try rayMap()
        for p in [SourceProfile.gaussian(sigma: 1e-4), .disk(radius: 1e-4)] {
            for boundary in [ConvolutionBoundary.zeroPadded, .periodic] {
                let c = try m.convolved(with: p, boundary: boundary)
                XCTAssertEqual(c.sourceProfile, p)
                for k in 0..<m.pixelCount {
                    XCTAssertEqual(c.pixels[k], m.pixels[k], accuracy: 1e-5 * m.pixels[k], "\(p) \(boundary)")
                }
                XCTAssertEqual(c.mean, m.mean, accuracy: 1e-6 * m.mean)
            }
        }
    }

    func testMeanIsPreserved() throws {
        let m = try rayMap()
        let sizes = [SourceProfile.gaussian(sigma: 0.2), .gaussian(sigma: 0.5), .disk(radius: 0.6)]
        let periodic = try m.convolved(withEach: sizes, boundary: .periodic)
        let padded = try m.convolved(withEach: sizes)
        for i in 0..<sizes.count {
            XCTAssertEqual(periodic[i].mean, m.mean, accuracy: 1e-6 * m.mean, "\(sizes[i]) periodic")
            XCTAssertEqual(padded[i].mean, m.mean, accuracy: 0.02 * m.mean, "\(sizes[i]) zero-padded")
            // Smoothing narrows the distribution.
            XCTAssertLessThan(padded[i].pixels.max()!, m.pixels.max()!)
        }
    }

    /// The FFT convolution equals the direct (normalised, zero-padded) sum with the same kernel.
    func testMatchesDirectConvolution() throws {
        let n = 17
        let m = try randomMap(n)
        for p in [SourceProfile.gaussian(sigma: 0.15), .disk(radius: 0.33)] {
            let (r, w) = p.kernel(pixelSize: m.geometry.pixelSize)
            let c = try m.convolved(with: p)
            let per = try m.convolved(with: p, boundary: .periodic)
            for row in 0..<n {
                for col in 0..<n {
                    var num = 0.0, den = 0.0, wrap = 0.0
                    for a in -r...r {
                        for b in -r...r {
                            let k = w[(a + r) * (2 * r + 1) + b + r]
                            let y = row - a, x = col - b
                            if y >= 0 && y < n && x >= 0 && x < n {
                                num += k * Double(m.pixels[y * n + x]); den += k
                            }
                            let yy = ((y % n) + n) % n, xx = ((x % n) + n) % n
                            wrap += k * Double(m.pixels[yy * n + xx])
                        }
                    }
                    XCTAssertEqual(Double(c.pixels[row * n + col]), num / den, accuracy: 1e-5)
                    XCTAssertEqual(Double(per.pixels[row * n + col]), wrap, accuracy: 1e-5)
                }
            }
        }
    }

    func testKernelsAreNormalisedWithTheRightWidth() throws {
        let dx = 0.05
        let (r, w) = SourceProfile.gaussian(sigma: 0.3).kernel(pixelSize: dx)
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
        var m2 = 0.0
        for a in -r...r { for b in -r...r { m2 += w[(a + r) * (2 * r + 1) + b + r] * Double(b * b) * dx * dx } }
        XCTAssertEqual(m2, 0.09 + dx * dx / 12, accuracy: 1e-4)   // σ² plus the pixel's own variance
        let (rd, wd) = SourceProfile.disk(radius: 0.5).kernel(pixelSize: dx)
        XCTAssertEqual(wd.reduce(0, +), 1, accuracy: 1e-12)
        var d2 = 0.0
        for a in -rd...rd { for b in -rd...rd { d2 += wd[(a + rd) * (2 * rd + 1) + b + rd] * Double(a * a + b * b) * dx * dx } }
        XCTAssertEqual(d2, 0.25 / 2, accuracy: 0.005)   // ⟨r²⟩ = R²/2 for a uniform disk
    }

    func testConstantMapStaysConstant() throws {
        let geo = try MapGeometry(sizeRE: 3, pixels: 30)
        let m = MagnificationMap(geometry: geo, pixels: [Float](repeating: 3, count: 900),
                                 model: try MacroModel(kappa: 0.3, gamma: 0.2), starCount: 0, seed: nil, raysShot: 0,
                                 raysPerPixelUnlensed: 1)
        let c = try m.convolved(with: .gaussian(sigma: 0.4))
        for v in c.pixels { XCTAssertEqual(v, 3, accuracy: 1e-5) }
        XCTAssertThrowsError(try m.convolved(with: .gaussian(sigma: -1))) { e in
            XCTAssertTrue("\(e)".contains("sigma"))
        }
    }
}
