import ClusterFitting
import Foundation
import TesseraSupport

/// One halo's weak-lensing data, as `tessera clusters fit` reads it: any combination of a ΔΣ
/// profile, a γ_t profile, a g_t profile, a κ map and a projected mass (Σ) map, from
/// `halo-<id>.h5` (HDF5) or `halo-<id>.fits` (FITS). Each observable enters the fit as an
/// independent Gaussian term (see `HaloLikelihood`).
///
/// Units everywhere: radii and pixel scales in physical Mpc at the lens; ΔΣ and Σ in M☉/Mpc²
/// (physical); γ_t, g_t and κ dimensionless; masses log10 M200c [M☉].
///
/// ## HDF5 layout (`halo-<id>.h5`)
/// - root attributes `id` (string), `redshift` (lens redshift, > 0), optionally `log10_true_mass`;
/// - at least one of the groups `/delta_sigma`, `/tangential_shear`, `/reduced_shear` (profiles):
///   `radii` [n], `values` [n], and either `covariance` [n, n] or `errors` [n] (1σ);
///   the two shear groups carry the group attribute `source_redshift` (one source plane, behind
///   the lens) or the attributes `beta` and `beta_squared` (⟨β⟩, ⟨β²⟩ of the source sample);
/// - and/or the groups `/kappa_map`, `/mass_map` (maps): `values` [height, width] and `errors`
///   [height, width] (1σ per pixel, a diagonal covariance), optionally `mask` [height, width]
///   (integer, nonzero = pixel not fitted); group attributes `pixel_scale` (Mpc per pixel),
///   `centre` ([x, y], the halo centre in 0-based pixel coordinates, pixel centres at integers),
///   optionally `min_radius` (Mpc; pixels nearer the centre are not fitted); `/kappa_map` also
///   `source_redshift` or `beta` and `beta_squared`. Pixels not fitted may hold NaN.
///
/// ## FITS layout (`halo-<id>.fits`)
/// - HDU 0 header: `HALOID` (string), `REDSHIFT` (lens), optionally `LOGMTRUE` (log10 true mass);
/// - one BINTABLE per profile with EXTNAME `DELTA_SIGMA`, `TANGENTIAL_SHEAR` or `REDUCED_SHEAR`,
///   columns `RADIUS`, `VALUE` and `ERROR` (1σ), or instead of `ERROR` a vector column `COVAR`
///   (row i of the covariance); the shear tables carry `ZSOURCE`, or `BETA` and `BETA2`;
/// - IMAGE HDUs `KAPPA_MAP` / `MASS_MAP` (NAXIS1 = width, NAXIS2 = height, doubles) with
///   `KAPPA_MAP_ERR` / `MASS_MAP_ERR` (1σ per pixel) and optionally `KAPPA_MAP_MASK` /
///   `MASS_MAP_MASK` (nonzero = not fitted); the value HDU carries `PIXSCALE` (Mpc per pixel),
///   `CRPIX1`, `CRPIX2` (the halo centre in FITS 1-based pixel coordinates), optionally `RMIN`
///   (Mpc), and for κ `ZSOURCE` or `BETA` and `BETA2`. When a file holds only maps, the first map
///   is HDU 0 (so the halo keywords sit in its header).
public struct HaloInput: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case hdf5, fits
        public var fileExtension: String { self == .hdf5 ? "h5" : "fits" }
    }

    public var id: String
    public var redshift: Double
    public var log10TrueMass: Double?
    public var observables: [HaloObservable]

    public init(id: String, redshift: Double, log10TrueMass: Double? = nil, observables: [HaloObservable]) {
        self.id = id
        self.redshift = redshift
        self.log10TrueMass = log10TrueMass
        self.observables = observables
    }

    /// `halo-<id>.h5`: the HDF5 input name, and the name of the fit's result file.
    public static func fileName(id: String) -> String { "halo-\(id).h5" }

    public static func fileName(id: String, format: Format) -> String { "halo-\(id).\(format.fileExtension)" }

    /// The id and format of a halo input file name (`halo-<id>.h5` or `halo-<id>.fits`), else nil.
    public static func parseFileName(_ name: String) -> (id: String, format: Format)? {
        guard name.hasPrefix("halo-") else { return nil }
        for format in Format.allCases where name.hasSuffix("." + format.fileExtension) {
            let id = String(name.dropFirst(5).dropLast(format.fileExtension.count + 1))
            return id.isEmpty ? nil : (id, format)
        }
        return nil
    }

    static func format(of path: String) throws -> Format {
        if path.hasSuffix(".h5") || path.hasSuffix(".hdf5") { return .hdf5 }
        if path.hasSuffix(".fits") || path.hasSuffix(".fit") { return .fits }
        throw ClusterRunError(file: path, message: "unknown halo file format (expected .h5 or .fits)")
    }

    /// Write in the format of the path's extension (.h5 or .fits), atomically (a `.partial` file,
    /// then a rename), so a reader never sees half a halo.
    public func write(to path: String) throws {
        guard !observables.isEmpty else { throw ClusterRunError(file: path, message: "halo \(id) has no observables") }
        var seen = Set<String>()
        for o in observables where !seen.insert(o.kind.name).inserted {
            throw ClusterRunError(file: path, message: "halo \(id) has two \(o.kind.name) observables; a file holds one of each kind")
        }
        switch try Self.format(of: path) {
        case .hdf5: try writeHDF5(to: path)
        case .fits: try writeFITS(to: path)
        }
    }

    /// Read and validate a halo file (.h5 or .fits); every problem names the file and the group,
    /// HDU, dataset, column or keyword.
    public static func read(_ path: String) throws -> HaloInput {
        switch try format(of: path) {
        case .hdf5: return try readHDF5(path)
        case .fits: return try readFITS(path)
        }
    }

    static let profileKinds = ["delta_sigma", "tangential_shear", "reduced_shear"]
    static let mapKinds = ["kappa_map", "mass_map"]

    static func kind(named name: String, sources: SourceSample?) -> HaloObservable.Kind {
        switch name {
        case "tangential_shear": return .tangentialShear(sources!)
        case "reduced_shear": return .reducedShear(sources!)
        case "kappa_map": return .convergenceMap(sources!)
        case "mass_map": return .surfaceDensityMap
        default: return .excessSurfaceDensity
        }
    }

    /// The source sample a shear or κ observable names: one source redshift, or else the moments
    /// ⟨β⟩ and ⟨β²⟩; nil if the file gives neither (both formats then name their own keys).
    static func sourceSample(redshift: Double?, beta: Double?, betaSquared: Double?) -> SourceSample? {
        if let redshift { return .redshift(redshift) }
        if let beta, let betaSquared { return .betaMoments(beta: beta, betaSquared: betaSquared) }
        return nil
    }

    static func needsSources(_ name: String) -> Bool { ["tangential_shear", "reduced_shear", "kappa_map"].contains(name) }
}
