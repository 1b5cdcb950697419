import RealModule

/// A mixed-radix complex FFT of any length (the recursive decimation-in-time scheme of
/// KISS FFT, Borgerding 2003): the length is factored into 4s, then 2s, then odd primes;
/// radices 2 and 4 have dedicated butterflies, any other radix p an O(p²) generic one, so the
/// cost is O(n Σ pᵢ) — fast for lengths whose factors are small (see `fastSize(atLeast:)`).
///
/// Conventions: forward X_k = Σ_j x_j e^(−2πi jk/n); inverse x_j = (1/n) Σ_k X_k e^(+2πi jk/n)
/// (the inverse is normalised, computed as conj(FFT(conj(X)))/n). Data are split into real and
/// imaginary arrays.
///
/// Kernel code: raw pointers on purpose. The recursion walks strided rows and columns of the
/// caller's arrays through pointer offsets, without copies; finite-source convolution throughput
/// (a forward and an inverse 2-D transform per source size and map) depends on it.
public struct FFT: Sendable {
    /// Transform length.
    public let count: Int
    /// (radix, remaining length) per stage.
    let radices: [Int], lengths: [Int]
    /// e^(−2πi k/n), k < n.
    let twRe: [Double], twIm: [Double]

    public init(count: Int) throws {
        try MicrolensingError.require(count >= 1, "fftLength", Double(count), "must be >= 1")
        self.count = count
        var r: [Int] = [], l: [Int] = []
        var n = count, p = 4
        let limit = Int(Double(count).squareRoot())
        while n > 1 {
            while n % p != 0 {
                switch p {
                case 4: p = 2
                case 2: p = 3
                default: p += 2
                }
                if p > limit { p = n }
            }
            n /= p
            r.append(p)
            l.append(n)
        }
        radices = r
        lengths = l
        var tr = [Double](repeating: 0, count: count), ti = tr
        for k in 0..<count {
            let phase = -2 * Double.pi * Double(k) / Double(count)
            tr[k] = Double.cos(phase)
            ti[k] = Double.sin(phase)
        }
        twRe = tr
        twIm = ti
    }

    /// The smallest n' ≥ n of the form 2^a 3^b 5^c (fast lengths).
    public static func fastSize(atLeast n: Int) -> Int {
        var m = max(1, n)
        while true {
            var k = m
            for f in [2, 3, 5] { while k % f == 0 { k /= f } }
            if k == 1 { return m }
            m += 1
        }
    }

    /// In-place forward transform of (re, im), each of length `count`.
    public func forward(re: inout [Double], im: inout [Double]) {
        precondition(re.count == count && im.count == count, "arrays must have length count")
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                transform(re: r.baseAddress!, im: i.baseAddress!, stride: 1, inverse: false)
            }
        }
    }

    /// In-place inverse transform (normalised by 1/n).
    public func inverse(re: inout [Double], im: inout [Double]) {
        precondition(re.count == count && im.count == count, "arrays must have length count")
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                transform(re: r.baseAddress!, im: i.baseAddress!, stride: 1, inverse: true)
            }
        }
    }

    /// Transform of the `count` elements at re[k·stride], im[k·stride], in place.
    func transform(re: UnsafeMutablePointer<Double>, im: UnsafeMutablePointer<Double>, stride: Int, inverse: Bool) {
        let n = count
        if n == 1 { return }
        let inR = UnsafeMutablePointer<Double>.allocate(capacity: n), inI = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let outR = UnsafeMutablePointer<Double>.allocate(capacity: n), outI = UnsafeMutablePointer<Double>.allocate(capacity: n)
        let maxRadix = radices.max() ?? 1
        let sR = UnsafeMutablePointer<Double>.allocate(capacity: maxRadix), sI = UnsafeMutablePointer<Double>.allocate(capacity: maxRadix)
        defer { for q in [inR, inI, outR, outI, sR, sI] { q.deallocate() } }
        let sign: Double = inverse ? -1 : 1
        for k in 0..<n { inR[k] = re[k * stride]; inI[k] = sign * im[k * stride] }
        twRe.withUnsafeBufferPointer { tr in
            twIm.withUnsafeBufferPointer { ti in
                work(outR: outR, outI: outI, inR: inR, inI: inI, fstride: 1, stage: 0,
                     tr: tr.baseAddress!, ti: ti.baseAddress!, sR: sR, sI: sI)
            }
        }
        let scale = inverse ? 1 / Double(n) : 1
        for k in 0..<n { re[k * stride] = outR[k] * scale; im[k * stride] = sign * outI[k] * scale }
    }

    private func work(outR: UnsafeMutablePointer<Double>, outI: UnsafeMutablePointer<Double>,
                      inR: UnsafePointer<Double>, inI: UnsafePointer<Double>, fstride: Int, stage: Int,
                      tr: UnsafePointer<Double>, ti: UnsafePointer<Double>,
                      sR: UnsafeMutablePointer<Double>, sI: UnsafeMutablePointer<Double>) {
        let p = radices[stage], m = lengths[stage]
        if m == 1 {
            for q in 0..<p { outR[q] = inR[q * fstride]; outI[q] = inI[q * fstride] }
        } else {
            for q in 0..<p {
                work(outR: outR + q * m, outI: outI + q * m, inR: inR + q * fstride, inI: inI + q * fstride,
                     fstride: fstride * p, stage: stage + 1, tr: tr, ti: ti, sR: sR, sI: sI)
            }
        }
        switch p {
        case 2:
            for k in 0..<m {
                let wr = tr[k * fstride], wi = ti[k * fstride]
                let br = outR[m + k], bi = outI[m + k]
                let t0 = br * wr - bi * wi, t1 = br * wi + bi * wr
                outR[m + k] = outR[k] - t0; outI[m + k] = outI[k] - t1
                outR[k] += t0; outI[k] += t1
            }
        case 4:
            for k in 0..<m {
                let w1r = tr[k * fstride], w1i = ti[k * fstride]
                let w2r = tr[2 * k * fstride], w2i = ti[2 * k * fstride]
                let w3r = tr[3 * k * fstride], w3i = ti[3 * k * fstride]
                let a0r = outR[k], a0i = outI[k]
                let s0r = outR[m + k] * w1r - outI[m + k] * w1i, s0i = outR[m + k] * w1i + outI[m + k] * w1r
                let s1r = outR[2 * m + k] * w2r - outI[2 * m + k] * w2i, s1i = outR[2 * m + k] * w2i + outI[2 * m + k] * w2r
                let s2r = outR[3 * m + k] * w3r - outI[3 * m + k] * w3i, s2i = outR[3 * m + k] * w3i + outI[3 * m + k] * w3r
                let s5r = a0r - s1r, s5i = a0i - s1i
                let f0r = a0r + s1r, f0i = a0i + s1i
                let s3r = s0r + s2r, s3i = s0i + s2i
                let s4r = s0r - s2r, s4i = s0i - s2i
                outR[2 * m + k] = f0r - s3r; outI[2 * m + k] = f0i - s3i
                outR[k] = f0r + s3r; outI[k] = f0i + s3i
                // Forward: X1 = s5 − i s4, X3 = s5 + i s4.
                outR[m + k] = s5r + s4i; outI[m + k] = s5i - s4r
                outR[3 * m + k] = s5r - s4i; outI[3 * m + k] = s5i + s4r
            }
        default:
            let n = count
            for u in 0..<m {
                var k = u
                for q in 0..<p { sR[q] = outR[k]; sI[q] = outI[k]; k += m }
                k = u
                for _ in 0..<p {
                    var twidx = 0
                    var accR = sR[0], accI = sI[0]
                    for q in 1..<p {
                        twidx += fstride * k
                        if twidx >= n { twidx -= n }
                        accR += sR[q] * tr[twidx] - sI[q] * ti[twidx]
                        accI += sR[q] * ti[twidx] + sI[q] * tr[twidx]
                    }
                    outR[k] = accR; outI[k] = accI
                    k += m
                }
            }
        }
    }

    /// The O(n²) discrete Fourier transform, for testing (same conventions as the FFT).
    public static func directDFT(re: [Double], im: [Double], inverse: Bool = false) -> (re: [Double], im: [Double]) {
        let n = re.count
        var or = [Double](repeating: 0, count: n), oi = or
        let s: Double = inverse ? 1 : -1
        for k in 0..<n {
            var ar = 0.0, ai = 0.0
            for j in 0..<n {
                let phase = s * 2 * Double.pi * Double((j * k) % n) / Double(n)
                let c = Double.cos(phase), si = Double.sin(phase)
                ar += re[j] * c - im[j] * si
                ai += re[j] * si + im[j] * c
            }
            or[k] = inverse ? ar / Double(n) : ar
            oi[k] = inverse ? ai / Double(n) : ai
        }
        return (or, oi)
    }
}

/// A 2-D FFT on a row-major width × height complex grid: 1-D transforms of every row, then of
/// every column (same conventions as `FFT`).
public struct FFT2D: Sendable {
    public let width: Int, height: Int
    let rowFFT: FFT, columnFFT: FFT

    public init(width: Int, height: Int) throws {
        self.width = width
        self.height = height
        rowFFT = try FFT(count: width)
        columnFFT = try FFT(count: height)
    }

    public func forward(re: inout [Double], im: inout [Double]) { run(&re, &im, inverse: false) }
    public func inverse(re: inout [Double], im: inout [Double]) { run(&re, &im, inverse: true) }

    private func run(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        precondition(re.count == width * height && im.count == width * height, "arrays must have width·height entries")
        re.withUnsafeMutableBufferPointer { r in
            im.withUnsafeMutableBufferPointer { i in
                let pr = r.baseAddress!, pi = i.baseAddress!
                for row in 0..<height {
                    rowFFT.transform(re: pr + row * width, im: pi + row * width, stride: 1, inverse: inverse)
                }
                for col in 0..<width {
                    columnFFT.transform(re: pr + col, im: pi + col, stride: width, inverse: inverse)
                }
            }
        }
    }
}
