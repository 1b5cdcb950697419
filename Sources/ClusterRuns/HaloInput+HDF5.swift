import ClusterFitting
import Foundation
import TesseraHDF5
import TesseraLinAlg
import TesseraSupport

/// The HDF5 layout of a halo file (`halo-<id>.h5`; described on `HaloInput`).
extension HaloInput {
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
                guard let sample = try sourceSample(redshift: number("source_redshift"), beta: number("beta"), betaSquared: number("beta_squared")) else {
                    throw fail("needs the attribute 'source_redshift', or 'beta' and 'beta_squared'")
                }
                sources = sample
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
}
