import TesseraSupport
import XCTest
@testable import Microlensing

final class FFTTests: XCTestCase {
    private func random(_ n: Int, seed: UInt64) -> ([Double], [Double]) {
        var g = RandomSource(seed: seed)
        return ((0..<n).map { _ in g.normal() }, (0..<n).map { _ in g.normal() })
    }

    func testMatchesDirectDFT() throws {
        for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 18, 30, 49, 64, 97, 100, 128, 243, 250] {
            let (re, im) = random(n, seed: UInt64(n))
            let ref = FFT.directDFT(re: re, im: im)
            var r = re, i = im
            try FFT(count: n).forward(re: &r, im: &i)
            let scale = Double(n).squareRoot()
            for k in 0..<n {
                XCTAssertEqual(r[k], ref.re[k], accuracy: 1e-11 * scale * Double(n), "n=\(n) k=\(k)")
                XCTAssertEqual(i[k], ref.im[k], accuracy: 1e-11 * scale * Double(n), "n=\(n) k=\(k)")
            }
            let inv = FFT.directDFT(re: re, im: im, inverse: true)
            var r2 = re, i2 = im
            try FFT(count: n).inverse(re: &r2, im: &i2)
            for k in 0..<n {
                XCTAssertEqual(r2[k], inv.re[k], accuracy: 1e-12 * Double(n), "inverse n=\(n)")
                XCTAssertEqual(i2[k], inv.im[k], accuracy: 1e-12 * Double(n), "inverse n=\(n)")
            }
        }
    }

    func testRoundTripOfLargeTransforms() throws {
        for n in [1000, 1024, 1250, 1021] {   // 1021 is prime (generic butterfly)
            let (re, im) = random(n, seed: 3)
            var r = re, i = im
            let f = try FFT(count: n)
            f.forward(re: &r, im: &i)
            f.inverse(re: &r, im: &i)
            for k in 0..<n {
                XCTAssertEqual(r[k], re[k], accuracy: 1e-11)
                XCTAssertEqual(i[k], im[k], accuracy: 1e-11)
            }
        }
    }

    func testTwoDimensionalMatchesDirect() throws {
        let w = 6, h = 10
        let (re, im) = random(w * h, seed: 8)
        var r = re, i = im
        try FFT2D(width: w, height: h).forward(re: &r, im: &i)
        for ky in 0..<h {
            for kx in 0..<w {
                var ar = 0.0, ai = 0.0
                for y in 0..<h {
                    for x in 0..<w {
                        let ph = -2 * Double.pi * (Double(kx * x) / Double(w) + Double(ky * y) / Double(h))
                        ar += re[y * w + x] * cos(ph) - im[y * w + x] * sin(ph)
                        ai += re[y * w + x] * sin(ph) + im[y * w + x] * cos(ph)
                    }
                }
                XCTAssertEqual(r[ky * w + kx], ar, accuracy: 1e-10)
                XCTAssertEqual(i[ky * w + kx], ai, accuracy: 1e-10)
            }
        }
    }

    func testFastSizes() {
        XCTAssertEqual(FFT.fastSize(atLeast: 1), 1)
        XCTAssertEqual(FFT.fastSize(atLeast: 7), 8)
        XCTAssertEqual(FFT.fastSize(atLeast: 1001), 1024)
        XCTAssertEqual(FFT.fastSize(atLeast: 1081), 1125)
        XCTAssertEqual(FFT.fastSize(atLeast: 97), 100)
    }
}
