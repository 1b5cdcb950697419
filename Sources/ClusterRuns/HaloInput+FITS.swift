import ClusterFitting
import Foundation
import TesseraFITS
import TesseraLinAlg
import TesseraSupport

/// The FITS layout of a halo file (`halo-<id>.fits`; described on `HaloInput`).
extension HaloInput {
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
                guard let sample = try sourceSample(redshift: header.double(ifPresent: "ZSOURCE"), beta: header.double(ifPresent: "BETA"),
                                           betaSquared: header.double(ifPresent: "BETA2")) else {
                    throw fail("needs the keyword ZSOURCE, or BETA and BETA2")
                }
                sources = sample
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
