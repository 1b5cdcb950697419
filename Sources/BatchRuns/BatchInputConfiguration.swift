import TesseraRun

/// The `input` section of a batch configuration: where each tile's pixels and PSFs come from.
///
/// A tile is a MEDS file (`.fits`, `.fits.fz`) or a scene pixel store (`.h5`, written by
/// `tessera preprocess`). Both are read through the one `ObjectStamps` protocol, so every fitter
/// takes either. A pixel-store tile needs the catalogue of sources to cut stamps around, the
/// band to fit and a PSF store; a MEDS tile takes its PSFs from the file unless `psf_store` is
/// given. Relative paths are taken from the directory `batch setup` runs in and recorded
/// absolute in every chunk's manifest.
public struct BatchInputConfiguration: Configuration, Equatable {
    public var psfStore = ""
    public var band = ""
    public var catalog = ""
    public var boxSize = 48
    public init() {}

    public typealias Key = CodingKeys
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case psfStore = "psf_store", band, catalog, boxSize = "box_size"
    }

    public static func describe(_ key: Key) -> String {
        switch key {
        case .psfStore: return "A PSF store (`tessera fit-psf` output): every epoch's PSF is taken from it (the exposure's own, else the band's) instead of the MEDS PSF cutouts. Required for pixel-store tiles; empty = MEDS PSFs."
        case .band: return "The band fitted: the PSF store's band for MEDS tiles, and which exposures of a pixel-store tile become epochs. Required with psf_store."
        case .catalog: return "Pixel-store tiles: FITS catalogue of the sources to fit (columns id, ra, dec in degrees), cut as stamps from every exposure of `band` that holds them."
        case .boxSize: return "Pixel-store tiles: stamp side in pixels."
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: Key.self)
        let d = Self()
        psfStore = try c.decodeIfPresent(String.self, forKey: .psfStore) ?? d.psfStore
        band = try c.decodeIfPresent(String.self, forKey: .band) ?? d.band
        catalog = try c.decodeIfPresent(String.self, forKey: .catalog) ?? d.catalog
        boxSize = try c.decodeIfPresent(Int.self, forKey: .boxSize) ?? d.boxSize
    }

    /// The section with its file paths made absolute (relative ones taken from the current
    /// directory), as `batch setup` records them in every chunk's manifest.
    public func resolvingPaths() -> Self {
        var r = self
        if !psfStore.isEmpty { r.psfStore = RunPaths.absolute(psfStore) }
        if !catalog.isEmpty { r.catalog = RunPaths.absolute(catalog) }
        return r
    }

    public func validate() throws {
        if !psfStore.isEmpty && band.isEmpty {
            throw InvalidConfigValue(field: "input.band", reason: "psf_store needs the band whose PSFs to use")
        }
        if boxSize < 4 { throw InvalidConfigValue(field: "input.box_size", reason: "must be >= 4 pixels") }
    }
}
