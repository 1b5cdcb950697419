import ClusterFitting
import Foundation
import TesseraFITS
import TesseraHDF5
import TesseraLinAlg
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

    static func needsSources(_ name: String) -> Bool { ["tangential_shear", "reduced_shear", "kappa_map"].contains(name) }

    // MARK: HDF5

    func writeHDF5(to path: String) throws {
        try writeReplacing(path) { partial in
            let file = try HDF5File.create(partial)
            try file.setAttribute("id", .string(id))
            try file.setAttribute("redshift", .double(redshift))
            if let log10TrueMass { try file.setAttribute("log10_true_mass", .double(log10TrueMass)) }
            for o in observables {
                let g = "/" + o.kind.name
                if let geometry = o.geometry {
                    let shape = [geometry.height, geometry.width]
                    try file.write(o.fullMap(o.values)!, shape: shape, to: g + "/values")
                    try file.write(o.fullMap(o.errors)!, shape: shape, to: g + "/errors")
                    if let mask = geometry.mask { try file.write(mask.map { Int32($0 ? 1 : 0) }, shape: shape, to: g + "/mask") }
                    try file.setAttribute("pixel_scale", .double(geometry.pixelScale), on: g)
                    try file.setAttribute("centre", .doubles([geometry.centreX, geometry.centreY]), on: g)
                    if geometry.minimumRadius > 0 { try file.setAttribute("min_radius", .double(geometry.minimumRadius), on: g) }
                } else {
                    try file.write(o.radii, to: g + "/radii")
                    try file.write(o.values, to: g + "/values")
                    if o.hasDiagonalCovariance {
                        try file.write(o.errors, to: g + "/errors")
                    } else {
                        try file.write(o.covariance.values, shape: [o.radii.count, o.radii.count], to: g + "/covariance")
                    }
                }
                switch o.kind.sources {
                case let .redshift(zs)?: try file.setAttribute("source_redshift", .double(zs), on: g)
                case let .betaMoments(b, b2)?:
                    try file.setAttribute("beta", .double(b), on: g)
                    try file.setAttribute("beta_squared", .double(b2), on: g)
                case nil: break
                }
            }
            try file.close()
        }
    }

    static func readHDF5(_ path: String) throws -> HaloInput {
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard let id = try file.attribute("id").stringValue else {
            throw HDF5Error(file: path, object: "/ attribute 'id'", operation: "read", message: "must be a string")
        }
        guard let z = try file.attribute("redshift").doubleValue, z.isFinite, z > 0 else {
            throw HDF5Error(file: path, object: "/ attribute 'redshift'", operation: "read", message: "must be a positive number")
        }
        let trueMass = try file.attributeNames().contains("log10_true_mass") ? try file.attribute("log10_true_mass").doubleValue : nil
        var observables: [HaloObservable] = []
        for name in profileKinds + mapKinds where try file.exists("/" + name) {
            let g = "/" + name
            func fail(_ message: String, _ object: String = g) -> HDF5Error {
                HDF5Error(file: path, object: object, operation: "read", message: message)
            }
            let attributes = Set(try file.attributeNames(of: g))
            func number(_ key: String) throws -> Double? {
                guard attributes.contains(key) else { return nil }
                guard let v = try file.attribute(key, of: g).doubleValue else { throw fail("must be a number", g + " attribute '\(key)'") }
                return v
            }
            var sources: SourceSample?
            if needsSources(name) {
                if let zs = try number("source_redshift") {
                    sources = .redshift(zs)
                } else if let b = try number("beta"), let b2 = try number("beta_squared") {
                    sources = .betaMoments(beta: b, betaSquared: b2)
                } else {
                    throw fail("needs the attribute 'source_redshift', or 'beta' and 'beta_squared'")
                }
            }
            let kind = kind(named: name, sources: sources)
            do {
                let observable: HaloObservable
                if kind.isMap {
                    let values = try file.read(Double.self, from: g + "/values")
                    guard values.shape.count == 2 else { throw fail("shape \(values.shape), expected [height, width]", g + "/values") }
                    let errors = try file.read(Double.self, from: g + "/errors")
                    guard errors.shape == values.shape else {
                        throw fail("shape \(errors.shape), expected \(values.shape) (the shape of values)", g + "/errors")
                    }
                    var mask: [Bool]?
                    if try file.exists(g + "/mask") {
                        let m = try file.read(Int32.self, from: g + "/mask")
                        guard m.shape == values.shape else {
                            throw fail("shape \(m.shape), expected \(values.shape) (the shape of values)", g + "/mask")
                        }
                        mask = m.values.map { $0 != 0 }
                    }
                    guard let scale = try number("pixel_scale") else { throw fail("needs the attribute 'pixel_scale' (Mpc per pixel)") }
                    var centre: [Double]?
                    if attributes.contains("centre") {
                        switch try file.attribute("centre", of: g) {
                        case let .doubles(c): centre = c
                        case let .ints(c): centre = c.map(Double.init)
                        default: break
                        }
                        guard centre?.count == 2 else { throw fail("must be [x, y]", g + " attribute 'centre'") }
                    }
                    let geometry = try MapGeometry(width: values.shape[1], height: values.shape[0], pixelScale: scale,
                                                   centreX: centre?[0], centreY: centre?[1],
                                                   minimumRadius: try number("min_radius") ?? 0, mask: mask)
                    observable = try HaloObservable(kind: kind, geometry: geometry, values: values.values, errors: errors.values)
                } else {
                    let radii = try file.read(Double.self, from: g + "/radii").values
                    let values = try file.read(Double.self, from: g + "/values").values
                    if try file.exists(g + "/covariance") {
                        let c = try file.read(Double.self, from: g + "/covariance")
                        guard c.shape == [radii.count, radii.count] else {
                            throw fail("shape \(c.shape), expected [\(radii.count), \(radii.count)]", g + "/covariance")
                        }
                        observable = try HaloObservable(kind: kind, radii: radii, values: values,
                                                        covariance: Matrix(rows: radii.count, columns: radii.count, values: c.values))
                    } else if try file.exists(g + "/errors") {
                        let errors = try file.read(Double.self, from: g + "/errors").values
                        observable = try HaloObservable(kind: kind, radii: radii, values: values, errors: errors)
                    } else {
                        throw fail("needs a 'covariance' or an 'errors' dataset")
                    }
                }
                try observable.validate(lensRedshift: z)
                observables.append(observable)
            } catch let error as ClusterFittingError {
                throw HDF5Error(file: path, object: g, operation: "validate", message: "\(error)")
            }
        }
        guard !observables.isEmpty else {
            throw HDF5Error(file: path, object: "/", operation: "read",
                            message: "no observable: expected at least one of the groups "
                                + (profileKinds + mapKinds).map { "/" + $0 }.joined(separator: ", "))
        }
        return HaloInput(id: id, redshift: z, log10TrueMass: trueMass, observables: observables)
    }

    // MARK: FITS

    static func extname(_ kindName: String) -> String { kindName.uppercased() }

    func writeFITS(to path: String) throws {
        try writeReplacing(path) { partial in
            let file = try FITSFile(creatingAt: partial, overwrite: true)
            // Profiles first: a table cannot be HDU 0, so the file then opens with an empty primary HDU.
            let ordered = observables.filter { !$0.kind.isMap } + observables.filter { $0.kind.isMap }
            func sourceKeywords(_ o: HaloObservable, hdu: Int) throws {
                switch o.kind.sources {
                case let .redshift(zs)?: try file.writeKeyword("ZSOURCE", .double(zs), comment: "source redshift", hdu: hdu)
                case let .betaMoments(b, b2)?:
                    try file.writeKeyword("BETA", .double(b), comment: "<beta> = <D_ls/D_s> of the sources", hdu: hdu)
                    try file.writeKeyword("BETA2", .double(b2), comment: "<beta^2> of the sources", hdu: hdu)
                case nil: break
                }
            }
            for o in ordered {
                let name = Self.extname(o.kind.name)
                if let geometry = o.geometry {
                    let unit = o.kind == .surfaceDensityMap ? "Msun/Mpc2" : ""
                    let hdu = try file.appendImage(FITSImage(width: geometry.width, height: geometry.height, pixels: o.fullMap(o.values)!),
                                                   extname: name)
                    try file.writeKeyword("PIXSCALE", .double(geometry.pixelScale), comment: "pixel side, physical Mpc at the lens", hdu: hdu)
                    try file.writeKeyword("CRPIX1", .double(geometry.centreX + 1), comment: "halo centre x (1-based pixels)", hdu: hdu)
                    try file.writeKeyword("CRPIX2", .double(geometry.centreY + 1), comment: "halo centre y (1-based pixels)", hdu: hdu)
                    if geometry.minimumRadius > 0 {
                        try file.writeKeyword("RMIN", .double(geometry.minimumRadius), comment: "Mpc; nearer pixels not fitted", hdu: hdu)
                    }
                    if !unit.isEmpty { try file.writeKeyword("BUNIT", .string(unit), hdu: hdu) }
                    try sourceKeywords(o, hdu: hdu)
                    try file.appendImage(FITSImage(width: geometry.width, height: geometry.height, pixels: o.fullMap(o.errors)!),
                                         extname: name + "_ERR")
                    if let mask = geometry.mask {
                        try file.appendImage(FITSImage(width: geometry.width, height: geometry.height, pixels: mask.map { $0 ? 1.0 : 0.0 }),
                                             extname: name + "_MASK")
                    }
                } else {
                    var columns: [FITSColumn] = [.double("RADIUS", o.radii, unit: "Mpc"),
                                                 .double("VALUE", o.values, unit: o.kind == .excessSurfaceDensity ? "Msun/Mpc2" : nil)]
                    if o.hasDiagonalCovariance {
                        columns.append(.double("ERROR", o.errors, unit: o.kind == .excessSurfaceDensity ? "Msun/Mpc2" : nil))
                    } else {
                        columns.append(.doubleVector("COVAR", values: o.covariance.values, width: o.radii.count))
                    }
                    let hdu = try file.appendTable(columns, extname: name)
                    try sourceKeywords(o, hdu: hdu)
                }
            }
            try file.writeKeyword("HALOID", .string(id), comment: "halo id", hdu: 0)
            try file.writeKeyword("REDSHIFT", .double(redshift), comment: "lens redshift", hdu: 0)
            if let log10TrueMass { try file.writeKeyword("LOGMTRUE", .double(log10TrueMass), comment: "log10 true M200c [Msun]", hdu: 0) }
            try file.close()
        }
    }

    static func readFITS(_ path: String) throws -> HaloInput {
        let file = try FITSFile(path: path)
        defer { try? file.close() }
        let primary = try file.readHeader(hdu: 0)
        guard let id = try primary.string(ifPresent: "HALOID"), !id.isEmpty else {
            throw ClusterRunError(file: path, message: "HDU 0: keyword HALOID (the halo id, a string) is missing")
        }
        guard let z = try primary.double(ifPresent: "REDSHIFT"), z.isFinite, z > 0 else {
            throw ClusterRunError(file: path, message: "HDU 0: keyword REDSHIFT (lens redshift) must be a positive number")
        }
        let trueMass = try primary.double(ifPresent: "LOGMTRUE")
        var hdus: [String: Int] = [:]
        for index in 0..<(try file.hduCount()) {
            if let name = try file.moveToHDU(index).extname?.uppercased(), hdus[name] == nil { hdus[name] = index }
        }
        var observables: [HaloObservable] = []
        for name in profileKinds + mapKinds {
            let ext = extname(name)
            guard let hdu = hdus[ext] else { continue }
            func fail(_ message: String, _ where_: String = ext) -> ClusterRunError {
                ClusterRunError(file: path, message: "HDU \(where_): \(message)")
            }
            let header = try file.readHeader(hdu: hdu)
            var sources: SourceSample?
            if needsSources(name) {
                if let zs = try header.double(ifPresent: "ZSOURCE") {
                    sources = .redshift(zs)
                } else if let b = try header.double(ifPresent: "BETA"), let b2 = try header.double(ifPresent: "BETA2") {
                    sources = .betaMoments(beta: b, betaSquared: b2)
                } else {
                    throw fail("needs the keyword ZSOURCE, or BETA and BETA2")
                }
            }
            let kind = kind(named: name, sources: sources)
            do {
                let observable: HaloObservable
                if kind.isMap {
                    let values = try file.readImage(Double.self, hdu: hdu)
                    guard values.shape.count == 2 else { throw fail("image shape \(values.shape), expected 2 axes") }
                    guard let errorHDU = hdus[ext + "_ERR"] else { throw fail("no \(ext)_ERR image (1-sigma per pixel)") }
                    let errors = try file.readImage(Double.self, hdu: errorHDU)
                    guard errors.shape == values.shape else {
                        throw fail("shape \(errors.shape), expected \(values.shape) (the shape of \(ext))", ext + "_ERR")
                    }
                    var mask: [Bool]?
                    if let maskHDU = hdus[ext + "_MASK"] {
                        let m = try file.readImage(Double.self, hdu: maskHDU)
                        guard m.shape == values.shape else {
                            throw fail("shape \(m.shape), expected \(values.shape) (the shape of \(ext))", ext + "_MASK")
                        }
                        mask = m.pixels.map { $0 != 0 }
                    }
                    guard let scale = try header.double(ifPresent: "PIXSCALE") else {
                        throw fail("needs the keyword PIXSCALE (Mpc per pixel)")
                    }
                    let geometry = try MapGeometry(width: values.shape[0], height: values.shape[1], pixelScale: scale,
                                                   centreX: try header.double(ifPresent: "CRPIX1").map { $0 - 1 },
                                                   centreY: try header.double(ifPresent: "CRPIX2").map { $0 - 1 },
                                                   minimumRadius: try header.double(ifPresent: "RMIN") ?? 0, mask: mask)
                    observable = try HaloObservable(kind: kind, geometry: geometry, values: values.pixels, errors: errors.pixels)
                } else {
                    let columns = Set(try file.columnNames(hdu: hdu).map { $0.uppercased() })
                    let radii = try file.readColumn("RADIUS", as: Double.self, hdu: hdu)
                    let values = try file.readColumn("VALUE", as: Double.self, hdu: hdu)
                    if columns.contains("COVAR") {
                        let rows = try file.readVectorColumn("COVAR", hdu: hdu)
                        guard rows.count == radii.count, rows.allSatisfy({ $0.count == radii.count }) else {
                            throw fail("column COVAR must hold \(radii.count) rows of \(radii.count) values")
                        }
                        observable = try HaloObservable(kind: kind, radii: radii, values: values,
                                                        covariance: Matrix(rows: radii.count, columns: radii.count,
                                                                           values: rows.flatMap { $0 }))
                    } else if columns.contains("ERROR") {
                        observable = try HaloObservable(kind: kind, radii: radii, values: values,
                                                        errors: try file.readColumn("ERROR", as: Double.self, hdu: hdu))
                    } else {
                        throw fail("needs a column ERROR (1 sigma) or COVAR (covariance rows)")
                    }
                }
                try observable.validate(lensRedshift: z)
                observables.append(observable)
            } catch let error as ClusterFittingError {
                throw fail("\(error)")
            }
        }
        guard !observables.isEmpty else {
            throw ClusterRunError(file: path, message: "no observable: expected at least one HDU with EXTNAME "
                                    + (profileKinds + mapKinds).map(extname).joined(separator: ", "))
        }
        return HaloInput(id: id, redshift: z, log10TrueMass: trueMass, observables: observables)
    }
}

/// What a worker returns for one halo; the master writes it as `results/halo-<id>.h5`.
public struct HaloFitRecord: Codable, Sendable {
    public var id: String
    public var file: String
    public var redshift: Double
    public var log10TrueMass: Double?
    public var parameterNames: [String]
    public var estimate: [Double]
    /// Row-major covariance of the parameters.
    public var covariance: [Double]
    public var log10MassSamples: [Double]
    public var rHat: [Double]
    public var effectiveSampleSize: [Double]
    public var divergences: Int
    public var optimizerConverged: Bool
    public var method: String
    public var seconds: Double
    public var rank: Int

    public var log10Mass: Double { estimate[0] }
    public var log10MassError: Double { covariance[0].squareRoot() }

    /// Write atomically (temporary name, then rename): a crash never leaves half a result.
    public func write(to path: String) throws {
        try writeReplacing(path) { partial in
            let h5 = try HDF5File.create(partial)
            for (name, value) in [("id", HDF5AttributeValue.string(id)), ("input", .string(file)), ("redshift", .double(redshift)),
                                  ("method", .string(method)), ("divergences", .int(Int64(divergences))),
                                  ("optimizer_converged", .int(optimizerConverged ? 1 : 0)), ("seconds", .double(seconds)),
                                  ("rank", .int(Int64(rank)))] {
                try h5.setAttribute(name, value)
            }
            if let log10TrueMass { try h5.setAttribute("log10_true_mass", .double(log10TrueMass)) }
            try h5.writeStrings(parameterNames, to: "/parameter_names")
            try h5.write(estimate, to: "/estimate")
            try h5.write(covariance, shape: [estimate.count, estimate.count], to: "/covariance")
            try h5.write(rHat, to: "/diagnostics/r_hat")
            try h5.write(effectiveSampleSize, to: "/diagnostics/ess")
            if !log10MassSamples.isEmpty { try h5.write(log10MassSamples, to: "/samples/log10_mass") }
            try h5.close()
        }
    }

    /// Read a result file back (for the summary and `--resume`).
    public static func read(_ path: String) throws -> HaloFitRecord {
        let f = try HDF5File.open(path)
        defer { try? f.close() }
        let estimate = try f.read(Double.self, from: "/estimate").values
        let hasSamples = try f.exists("/samples/log10_mass")
        return HaloFitRecord(
            id: try f.attribute("id").stringValue ?? "", file: try f.attribute("input").stringValue ?? "",
            redshift: try f.attribute("redshift").doubleValue ?? .nan,
            log10TrueMass: try f.attributeNames().contains("log10_true_mass") ? try f.attribute("log10_true_mass").doubleValue : nil,
            parameterNames: try f.readStrings(from: "/parameter_names"), estimate: estimate,
            covariance: try f.read(Double.self, from: "/covariance").values,
            log10MassSamples: hasSamples ? try f.read(Double.self, from: "/samples/log10_mass").values : [],
            rHat: try f.read(Double.self, from: "/diagnostics/r_hat").values,
            effectiveSampleSize: try f.read(Double.self, from: "/diagnostics/ess").values,
            divergences: Int(try f.attribute("divergences").intValue ?? 0),
            optimizerConverged: try f.attribute("optimizer_converged").intValue == 1,
            method: try f.attribute("method").stringValue ?? "", seconds: try f.attribute("seconds").doubleValue ?? .nan,
            rank: Int(try f.attribute("rank").intValue ?? -1))
    }
}
