import TesseraRun

/// Configuration of `tessera mock-scene`: a catalog (random, or from a FITS catalog) rendered
/// into dithered FITS exposures in several bands with noise, plus its truth catalog, a
/// perturbed starting catalog and the PSF store. Units: arcsec, pixels, radians, nJy.
public struct MockSceneConfiguration: Configuration, Equatable {
    public var catalog: String?
    public var count = 20
    public var seed: UInt64 = 1
    public var bands: [String] = ["F150W", "F200W"]
    public var exposuresPerBand = 3
    public var imageSize = 64
    public var pixelScale = 0.1
    public var center: [Double] = [53.1, -27.8]
    public var psfSigma: [Double] = [1.0, 1.3]
    public var dither = 0.5
    public var rotation = 0.05
    public var skySigma = 1.0
    public var gain = 5.0
    public var calibration = 1.0
    public var fluxRange: [Double] = [40, 300]
    public var rhalfRange: [Double] = [0.08, 0.3]
    public var sersicRange: [Double] = [1, 4]
    public var qRange: [Double] = [0.4, 0.95]
    public var pointFraction = 0.1
    public var minSeparation = 0.35
    public var margin = 0.8
    public var perturbation = 0.1
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case catalog, count, seed, bands, exposuresPerBand = "exposures_per_band", imageSize = "image_size"
        case pixelScale = "pixel_scale", center, psfSigma = "psf_sigma", dither, rotation, skySigma = "sky_sigma", gain
        case calibration, fluxRange = "flux_range", rhalfRange = "rhalf_range", sersicRange = "sersic_range", qRange = "q_range"
        case pointFraction = "point_fraction", minSeparation = "min_separation", margin, perturbation
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .catalog: return "Optional truth catalog (FITS, the `tessera optimize` catalog layout); random sources when absent."
        case .count: return "Number of random sources."
        case .seed: return "Random seed (sources, dithers, noise)."
        case .bands: return "Band names (one flux column each)."
        case .exposuresPerBand: return "Dithered exposures per band."
        case .imageSize: return "Exposure width = height in pixels."
        case .pixelScale: return "Pixel scale, arcsec per pixel."
        case .center: return "[ra, dec] of the field centre, degrees."
        case .psfSigma: return "Per band: core σ of the PSF in pixels (the PSF is a core plus a 2.5× wider wing with 20% of the light)."
        case .dither: return "Exposure centres are offset uniformly within ± this many arcsec."
        case .rotation: return "Exposure orientations differ by up to ± this many radians."
        case .skySigma: return "Sky (read + background) noise per pixel, counts."
        case .gain: return "Electrons per count for the sources' Poisson noise (<= 0: none)."
        case .calibration: return "Counts per nJy."
        case .fluxRange: return "[low, high] of fluxes (nJy), drawn log-uniformly per source; colours vary by ±30% between bands."
        case .rhalfRange: return "[low, high] of half-light radii (arcsec), log-uniform."
        case .sersicRange: return "[low, high] of Sérsic indices, uniform."
        case .qRange: return "[low, high] of axis ratios, uniform."
        case .pointFraction: return "Fraction of sources that are point sources."
        case .minSeparation: return "Minimum separation of random sources, arcsec (they still overlap in light)."
        case .margin: return "Random sources stay this far (arcsec) inside every exposure's edge."
        case .perturbation: return "The starting catalog (initial.fits) perturbs fluxes by this fraction, positions by this many arcsec and shapes by a little."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        catalog = try c.decodeIfPresent(String.self, forKey: .catalog)
        count = try c.decodeIfPresent(Int.self, forKey: .count) ?? d.count
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        bands = try c.decodeIfPresent([String].self, forKey: .bands) ?? d.bands
        exposuresPerBand = try c.decodeIfPresent(Int.self, forKey: .exposuresPerBand) ?? d.exposuresPerBand
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? d.imageSize
        pixelScale = try c.decodeIfPresent(Double.self, forKey: .pixelScale) ?? d.pixelScale
        center = try c.decodeIfPresent([Double].self, forKey: .center) ?? d.center
        psfSigma = try c.decodeIfPresent([Double].self, forKey: .psfSigma) ?? d.psfSigma
        dither = try c.decodeIfPresent(Double.self, forKey: .dither) ?? d.dither
        rotation = try c.decodeIfPresent(Double.self, forKey: .rotation) ?? d.rotation
        skySigma = try c.decodeIfPresent(Double.self, forKey: .skySigma) ?? d.skySigma
        gain = try c.decodeIfPresent(Double.self, forKey: .gain) ?? d.gain
        calibration = try c.decodeIfPresent(Double.self, forKey: .calibration) ?? d.calibration
        fluxRange = try c.decodeIfPresent([Double].self, forKey: .fluxRange) ?? d.fluxRange
        rhalfRange = try c.decodeIfPresent([Double].self, forKey: .rhalfRange) ?? d.rhalfRange
        sersicRange = try c.decodeIfPresent([Double].self, forKey: .sersicRange) ?? d.sersicRange
        qRange = try c.decodeIfPresent([Double].self, forKey: .qRange) ?? d.qRange
        pointFraction = try c.decodeIfPresent(Double.self, forKey: .pointFraction) ?? d.pointFraction
        minSeparation = try c.decodeIfPresent(Double.self, forKey: .minSeparation) ?? d.minSeparation
        margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? d.margin
        perturbation = try c.decodeIfPresent(Double.self, forKey: .perturbation) ?? d.perturbation
    }

    public func validate() throws {
        if bands.isEmpty || Set(bands).count != bands.count { throw InvalidConfigValue(field: "bands", reason: "need distinct band names") }
        if psfSigma.count != bands.count { throw InvalidConfigValue(field: "psf_sigma", reason: "need one value per band (\(bands.count))") }
        if psfSigma.contains(where: { $0 <= 0 }) { throw InvalidConfigValue(field: "psf_sigma", reason: "must be > 0 pixels") }
        if count < 1 && catalog == nil { throw InvalidConfigValue(field: "count", reason: "must be >= 1") }
        if exposuresPerBand < 1 { throw InvalidConfigValue(field: "exposures_per_band", reason: "must be >= 1") }
        if imageSize < 8 { throw InvalidConfigValue(field: "image_size", reason: "must be >= 8 pixels") }
        if pixelScale <= 0 { throw InvalidConfigValue(field: "pixel_scale", reason: "must be > 0") }
        if center.count != 2 { throw InvalidConfigValue(field: "center", reason: "must be [ra, dec]") }
        if skySigma <= 0 { throw InvalidConfigValue(field: "sky_sigma", reason: "must be > 0") }
        if calibration <= 0 { throw InvalidConfigValue(field: "calibration", reason: "must be > 0") }
        for (k, r) in [("flux_range", fluxRange), ("rhalf_range", rhalfRange), ("sersic_range", sersicRange), ("q_range", qRange)] {
            guard r.count == 2, r[0] > 0, r[0] <= r[1] else { throw InvalidConfigValue(field: k, reason: "must be [low, high] with 0 < low <= high") }
        }
        if !(0...1).contains(pointFraction) { throw InvalidConfigValue(field: "point_fraction", reason: "must be in [0, 1]") }
    }
}
