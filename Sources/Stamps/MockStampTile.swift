/// A mock multi-epoch stamp tile with known truth: Gaussian-mixture galaxies, some in real blends
/// (overlapping light), seen in a coadd and several single epochs that differ in pixel grid
/// orientation, PSF and noise.
///
/// It is the MEDS test input of Tessera (written out by `MEDSWriter`), and the input of the
/// multi-object fitting work: everything a fitter must get right — neighbours' light in a stamp,
/// per-epoch Jacobians and PSFs, weights, masked pixels — is in it, with the truth alongside.
import Foundation
import SceneModel
import TesseraSupport

/// What to simulate. Angles in arcsec, fluxes in image counts, noise per pixel in counts.
public struct MockTileSettings: Sendable, Equatable, Codable {
    public var objectCount = 200
    /// Fraction of objects placed in blended groups of 2 or 3 (their light overlaps).
    public var blendedFraction = 0.4
    /// Single-epoch images per object; each object also gets a coadd cutout first (cutout 0).
    public var epochCount = 3
    /// Side of every object's stamp, pixels.
    public var boxSize = 32
    /// Side of every PSF image, pixels.
    public var psfBoxSize = 17
    /// Nominal pixel scale, arcsec per pixel.
    public var pixelScale = 0.263
    /// Per-pixel noise σ of one single-epoch image (counts); the coadd has σ/√epochCount.
    public var noiseSigma = 1.0
    /// Total fluxes are drawn log-uniformly in this range (counts).
    public var fluxRange: ClosedRange<Double> = 400...4000
    /// Half-light radii are drawn uniformly in this range (arcsec).
    public var halfLightRange: ClosedRange<Double> = 0.3...0.8
    /// Single-epoch PSF FWHMs are drawn uniformly in this range (arcsec).
    public var psfFWHMRange: ClosedRange<Double> = 0.8...1.2
    /// Noise (and bad pixels) drawn per image pixel, shared by every cutout that holds the pixel,
    /// as in cutouts of one image (true); or drawn independently for each object's cutout
    /// (false: the tile of earlier versions, kept for comparisons; see `pixelNoise`).
    public var sharedNoise = true
    /// Fraction of single-epoch pixels flagged bad (bmask bit 1, weight 0).
    public var badPixelFraction = 0.002
    /// Tile centre, degrees.
    public var ra0 = 40.0
    public var dec0 = -30.0
    public var seed: UInt64 = 1

    public init() {}
}

/// The truth of one mock object.
public struct MockTileObject: Sendable, Equatable, Codable {
    public var id: Int64
    /// Segmentation number (index + 1).
    public var number: Int64
    /// Sky offset from the tile centre, arcsec (u along the coadd's columns, v along its rows),
    /// in the MEDS/GalSim world convention: +u west, +v north, so ra = ra0 − u/cos(dec0).
    public var u: Double
    public var v: Double
    public var ra: Double
    public var dec: Double
    /// Total flux, counts.
    public var flux: Double
    /// Half-light radius of the round profile before shearing, arcsec.
    public var halfLightRadius: Double
    /// Reduced ellipticity.
    public var g1: Double
    public var g2: Double
    /// The blend group the object was placed in (0-based; isolated objects have their own).
    public var truthGroup: Int
}

/// One image the tile's stamps are cut from: the coadd (index 0) or a single epoch.
public struct MockTileImage: Sendable, Equatable, Codable {
    /// Pixel-to-sky derivatives, arcsec per pixel (constant over the image).
    public var dudrow: Double
    public var dudcol: Double
    public var dvdrow: Double
    public var dvdcol: Double
    /// Pixel position (row, col) of the tile centre (u = v = 0) in this image.
    public var centerRow: Double
    public var centerCol: Double
    public var psf: SkyMixture
    /// Per-pixel noise σ, counts.
    public var noiseSigma: Double
}

public struct MockStampTile: Sendable {
    public let settings: MockTileSettings
    public let objects: [MockTileObject]
    /// images[0] is the coadd, images[1...] the single epochs (MEDS `file_id` = index).
    public let images: [MockTileImage]
    /// stamps[i][c]: cutout c of object i (c = 0 the coadd).
    public let stamps: [[EpochStamp]]
    /// Footprints of each object's cutout c in image `stamps[i][c].fileID` (MEDS
    /// `orig_start_row/col`), and the object's position there (`orig_row/col`).
    public let footprints: [[StampBox]]
    public let origins: [[(row: Double, col: Double)]]

    /// The exponential-disk profile as (fraction, σ in units of r_half): the project's Sérsic
    /// mixture at n = 1, without components under 0.3% of the flux (renormalised). The truth is
    /// this mixture exactly.
    public static func exponentialProfile() throws -> [(fraction: Double, sigma: Double)] {
        let table = try SersicMixture.bundled()
        let amplitudes = table.amplitudes(sersic: 1).values
        let kept = zip(amplitudes, table.radii).filter { $0.0 >= 0.003 }
        let total = kept.reduce(0) { $0 + $1.0 }
        return kept.map { (fraction: $0.0 / total, sigma: $0.1) }
    }

    /// Simulates a tile. Deterministic in `settings` (the seed included).
    public static func make(_ settings: MockTileSettings) throws -> MockStampTile {
        let s = settings
        precondition(s.objectCount >= 1 && s.epochCount >= 1 && s.boxSize >= 4 && s.psfBoxSize >= 3,
                     "MockStampTile: need ≥ 1 object, ≥ 1 epoch, box ≥ 4, PSF box ≥ 3")
        let profile = try exponentialProfile()
        var rng = RandomSource(seed: s.seed, stream: 0)

        // Groups: blended objects in groups of 2–3, the rest alone.
        var sizes: [Int] = []
        var blended = Int((s.blendedFraction * Double(s.objectCount)).rounded())
        while blended >= 2 {
            let size = blended >= 5 && rng.uniform() < 0.3 ? 3 : 2
            sizes.append(size)
            blended -= size
        }
        let singles = s.objectCount - sizes.reduce(0, +)
        sizes += [Int](repeating: 1, count: singles)
        // Shuffle the group order so that blends are spread over the tile (Fisher–Yates).
        for k in stride(from: sizes.count - 1, to: 0, by: -1) {
            let j = Int(rng.uniform() * Double(k + 1))
            sizes.swapAt(k, j)
        }

        // Group centres on a jittered grid whose spacing keeps different groups' stamps apart.
        let spacing = 3.0 * Double(s.boxSize) * s.pixelScale
        let side = Int(Double(sizes.count).squareRoot().rounded(.up))
        var objects: [MockTileObject] = []
        for (g, size) in sizes.enumerated() {
            let cu = (Double(g % side) - Double(side - 1) / 2) * spacing + (rng.uniform() - 0.5) * 0.1 * spacing
            let cv = (Double(g / side) - Double(side - 1) / 2) * spacing + (rng.uniform() - 0.5) * 0.1 * spacing
            var primary: (u: Double, v: Double, r: Double)?
            for _ in 0..<size {
                let flux = s.fluxRange.lowerBound * pow(s.fluxRange.upperBound / s.fluxRange.lowerBound, rng.uniform())
                let r = s.halfLightRange.lowerBound + (s.halfLightRange.upperBound - s.halfLightRange.lowerBound) * rng.uniform()
                var e1 = 0.0, e2 = 0.0
                repeat { e1 = 0.25 * rng.normal(); e2 = 0.25 * rng.normal() } while e1 * e1 + e2 * e2 > 0.6
                var u = cu, v = cv
                if let p = primary {
                    // A companion 1.2–2.2 summed half-light radii from the group's first member:
                    // the light overlaps, and groups stay apart on the grid.
                    let separation = (p.r + r) * (1.2 + rng.uniform())
                    let angle = 2 * Double.pi * rng.uniform()
                    u = p.u + separation * cos(angle)
                    v = p.v + separation * sin(angle)
                }
                if primary == nil { primary = (u, v, r) }
                let id = Int64(objects.count)
                objects.append(MockTileObject(
                    id: 1000 + id, number: id + 1, u: u, v: v,
                    ra: s.ra0 - u / 3600 / cos(s.dec0 * Double.pi / 180), dec: s.dec0 + v / 3600,
                    flux: flux, halfLightRadius: r, g1: e1, g2: e2, truthGroup: g))
            }
        }

        // Images: the coadd on the nominal grid, single epochs rotated, slightly rescaled and sheared.
        let extent = Double(side) * spacing / s.pixelScale + Double(2 * s.boxSize)
        var images = [MockTileImage(dudrow: 0, dudcol: s.pixelScale, dvdrow: s.pixelScale, dvdcol: 0,
                                    centerRow: extent / 2, centerCol: extent / 2,
                                    psf: .gaussianPSF(fwhm: (s.psfFWHMRange.lowerBound + s.psfFWHMRange.upperBound) / 2),
                                    noiseSigma: s.noiseSigma / Double(s.epochCount).squareRoot())]
        for _ in 0..<s.epochCount {
            let theta = 2 * Double.pi * rng.uniform()
            let scale = s.pixelScale * (1 + 0.02 * (rng.uniform() - 0.5))
            let shear = 0.02 * (rng.uniform() - 0.5)
            let c = cos(theta), sn = sin(theta)
            // J = scale · R(θ) · [[1 + γ, 0], [0, 1 − γ]] in (row, col) → (v, u) order, then swapped
            // to (u, v) so that θ = 0 is the coadd's orientation.
            let m11 = c * (1 + shear), m12 = -sn * (1 - shear), m21 = sn * (1 + shear), m22 = c * (1 - shear)
            let fwhm = s.psfFWHMRange.lowerBound + (s.psfFWHMRange.upperBound - s.psfFWHMRange.lowerBound) * rng.uniform()
            var psf = SkyMixture.gaussianPSF(fwhm: fwhm)
            // A slightly elliptical, two-component PSF: a core and a 15% wing twice as wide.
            let core = psf.components[0]
            let e = 0.05 * (rng.uniform() - 0.5)
            psf = SkyMixture([
                SkyGaussian(flux: 0.85, cuu: core.cuu * (1 + e), cuv: core.cuu * e, cvv: core.cvv * (1 - e)),
                SkyGaussian(flux: 0.15, cuu: 4 * core.cuu, cvv: 4 * core.cvv),
            ])
            images.append(MockTileImage(dudrow: scale * m21, dudcol: scale * m22, dvdrow: scale * m11, dvdcol: scale * m12,
                                        centerRow: extent / 2 + 50 * rng.uniform(), centerCol: extent / 2 + 50 * rng.uniform(),
                                        psf: psf, noiseSigma: s.noiseSigma * (0.8 + 0.4 * rng.uniform())))
        }

        let galaxies = objects.map { o in
            SkyMixture.galaxy(flux: o.flux, u: o.u, v: o.v, g1: o.g1, g2: o.g2,
                              profile: profile.map { p in (p.fraction, p.sigma * o.halfLightRadius) })
        }
        let reach = Double(s.boxSize) * s.pixelScale * 0.75 + 6 * s.halfLightRange.upperBound
        let psfImages = images.map { psfImage($0, box: s.psfBoxSize) }

        var stamps: [[EpochStamp]] = []
        var footprints: [[StampBox]] = []
        var origins: [[(row: Double, col: Double)]] = []
        let n = s.boxSize * s.boxSize
        for (i, object) in objects.enumerated() {
            var own = RandomSource(seed: s.seed, stream: UInt64(i) + 1)
            var epochStamps: [EpochStamp] = []
            var boxes: [StampBox] = []
            var origin: [(row: Double, col: Double)] = []
            let nearby = objects.indices.filter {
                let du = objects[$0].u - object.u, dv = objects[$0].v - object.v
                return du * du + dv * dv < reach * reach
            }
            for (fileID, image) in images.enumerated() {
                let imageJacobian = StampJacobian(row0: image.centerRow, col0: image.centerCol, dudrow: image.dudrow,
                                                  dudcol: image.dudcol, dvdrow: image.dvdrow, dvdcol: image.dvdcol)
                let (origRow, origCol) = imageJacobian.rowCol(u: object.u, v: object.v)
                let startRow = Int(origRow.rounded(.down)) - s.boxSize / 2 + 1
                let startCol = Int(origCol.rounded(.down)) - s.boxSize / 2 + 1
                let jacobian = StampJacobian(row0: origRow - Double(startRow), col0: origCol - Double(startCol),
                                             dudrow: image.dudrow, dudcol: image.dudcol,
                                             dvdrow: image.dvdrow, dvdcol: image.dvdcol)
                // Noise-free light of every object near this one, each kept apart for the seg map.
                var model = [Double](repeating: 0, count: n)
                var owner = [Int32](repeating: 0, count: n)
                var best = [Double](repeating: 0, count: n)
                for k in nearby {
                    var shifted = galaxies[k].convolved(with: image.psf)
                    for c in shifted.components.indices {
                        shifted.components[c].u -= object.u
                        shifted.components[c].v -= object.v
                    }
                    var light = [Double](repeating: 0, count: n)
                    shifted.render(into: &light, rows: s.boxSize, cols: s.boxSize, jacobian: jacobian)
                    for p in 0..<n {
                        model[p] += light[p]
                        if light[p] > best[p] && light[p] > image.noiseSigma {
                            best[p] = light[p]
                            owner[p] = Int32(objects[k].number)
                        }
                    }
                }
                var pixels = [Float](repeating: 0, count: n)
                var weight = [Float](repeating: Float(1 / (image.noiseSigma * image.noiseSigma)), count: n)
                var bmask = [Int32](repeating: 0, count: n)
                for p in 0..<n {
                    // The noise (and the bad-pixel mask) belongs to the image pixel, so that
                    // overlapping cutouts of neighbours see the same noise, as cutouts of one
                    // image do.
                    var shared = pixelNoise(seed: s.seed, fileID: fileID, row: startRow + p / s.boxSize,
                                            col: startCol + p % s.boxSize)
                    pixels[p] = Float(model[p] + image.noiseSigma * (s.sharedNoise ? shared.normal() : own.normal()))
                    if fileID > 0 && (s.sharedNoise ? shared.uniform() : own.uniform()) < s.badPixelFraction {
                        bmask[p] = 1
                        weight[p] = 0
                    }
                }
                epochStamps.append(EpochStamp(rows: s.boxSize, cols: s.boxSize, image: pixels, weight: weight, seg: owner,
                                              bmask: bmask, jacobian: jacobian, psf: psfImages[fileID], fileID: fileID))
                boxes.append(StampBox(rowStart: startRow, colStart: startCol, size: s.boxSize))
                origin.append((origRow, origCol))
            }
            stamps.append(epochStamps)
            footprints.append(boxes)
            origins.append(origin)
        }
        return MockStampTile(settings: s, objects: objects, images: images, stamps: stamps,
                             footprints: footprints, origins: origins)
    }

    /// The random stream of one pixel (row, col) of image `fileID`: its noise, then its bad-pixel
    /// draw. Keyed by the image pixel, not by the cutout, so that the pixels two neighbours'
    /// stamps share carry the same noise. (Independent noise per cutout would make every stamp
    /// a separate observation of the blend: MOF's fixed point, each member fitted to its own
    /// stamps only, then scatters far more than the errors of any one stamp's joint fit say.)
    static func pixelNoise(seed: UInt64, fileID: Int, row: Int, col: Int) -> RandomSource {
        let key = UInt64(truncatingIfNeeded: fileID) << 48
            | (UInt64(truncatingIfNeeded: row) & 0xFF_FFFF) << 24 | (UInt64(truncatingIfNeeded: col) & 0xFF_FFFF)
        return RandomSource(seed: ~seed, stream: key)  // ~seed: apart from the layout stream
    }

    /// The image's PSF rendered as a unit-sum image centred on the middle pixel.
    static func psfImage(_ image: MockTileImage, box: Int) -> StampPSFImage {
        let centre = Double(box - 1) / 2
        let jacobian = StampJacobian(row0: centre, col0: centre, dudrow: image.dudrow, dudcol: image.dudcol,
                                     dvdrow: image.dvdrow, dvdcol: image.dvdcol)
        var values = [Double](repeating: 0, count: box * box)
        image.psf.render(into: &values, rows: box, cols: box, jacobian: jacobian)
        let total = values.reduce(0, +)
        return StampPSFImage(rows: box, cols: box, centerRow: centre, centerCol: centre,
                             pixels: values.map { Float($0 / total) })
    }
}
