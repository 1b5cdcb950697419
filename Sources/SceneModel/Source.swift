/// One catalog source: a Sérsic galaxy or a point source. Units and conventions are in
/// `SceneModelInfo`'s documentation (degrees, arcsec, radians east of north, catalog flux units).
public struct Source: Sendable, Codable, Equatable {
    /// Catalog identifier (stable across runs; used to name chains).
    public var id: Int64
    /// Right ascension and declination in degrees.
    public var ra: Double
    public var dec: Double
    /// Flux in each band of the scene, in the scene's band order, catalog flux units.
    public var flux: [Double]
    /// Axis ratio b/a.
    public var q: Double
    /// Position angle of the major axis, radians east of north.
    public var pa: Double
    /// Sérsic index n.
    public var sersic: Double
    /// Half-light radius along the major axis, arcsec.
    public var rhalf: Double
    /// Point source: only flux and position are parameters (shape fields are ignored).
    public var isPoint: Bool

    public init(id: Int64, ra: Double, dec: Double, flux: [Double], q: Double = 1, pa: Double = 0,
                sersic: Double = 1, rhalf: Double = 0.1, isPoint: Bool = false) {
        self.id = id; self.ra = ra; self.dec = dec; self.flux = flux
        self.q = q; self.pa = pa; self.sersic = sersic; self.rhalf = rhalf; self.isPoint = isPoint
    }
}

/// Which parameter a slot of a source's parameter block is.
public enum SourceParameter: Sendable, Equatable, Hashable, Codable {
    case flux(band: Int)
    /// Tangent-plane offsets (arcsec east / north) about the patch reference point.
    case xi, eta
    case q, pa, sersic, rhalf

    public var name: String {
        switch self {
        case let .flux(b): return "flux_\(b)"
        case .xi: return "xi"
        case .eta: return "eta"
        case .q: return "q"
        case .pa: return "pa"
        case .sersic: return "sersic"
        case .rhalf: return "rhalf"
        }
    }
}

/// The layout of the parameter vector of a patch's *active* sources, in this order per source:
/// galaxy: flux_0 … flux_{B−1}, ξ, η, q, pa, n, rhalf; point source: flux_0 … flux_{B−1}, ξ, η.
/// Sources follow one another in the order given.
public struct ParameterLayout: Sendable, Equatable {
    public let bandCount: Int
    public let isPoint: [Bool]
    /// Index of each source's first parameter.
    public let offsets: [Int]
    public let count: Int

    public init(bandCount: Int, isPoint: [Bool]) {
        self.bandCount = bandCount
        self.isPoint = isPoint
        var offsets: [Int] = []
        var n = 0
        for p in isPoint {
            offsets.append(n)
            n += bandCount + (p ? 2 : 6)
        }
        self.offsets = offsets
        self.count = n
    }

    public var sourceCount: Int { isPoint.count }

    /// The parameters of source `s`, in vector order.
    public func parameters(ofSource s: Int) -> [SourceParameter] {
        var out = (0..<bandCount).map { SourceParameter.flux(band: $0) }
        out += [.xi, .eta]
        if !isPoint[s] { out += [.q, .pa, .sersic, .rhalf] }
        return out
    }

    /// Index in the vector of parameter `p` of source `s`, nil for a shape parameter of a point source.
    public func index(ofSource s: Int, _ p: SourceParameter) -> Int? {
        let o = offsets[s], b = bandCount
        switch p {
        case let .flux(band): return o + band
        case .xi: return o + b
        case .eta: return o + b + 1
        case .q: return isPoint[s] ? nil : o + b + 2
        case .pa: return isPoint[s] ? nil : o + b + 3
        case .sersic: return isPoint[s] ? nil : o + b + 4
        case .rhalf: return isPoint[s] ? nil : o + b + 5
        }
    }
}

/// Bounds on source parameters, from the configuration. Defaults follow the scene-fitting issue.
public struct ParameterBounds: Sendable, Codable, Equatable {
    public var sersic: ClosedRange<Double> = 0.8...6
    public var q: ClosedRange<Double> = 0.2...1
    public var rhalf: ClosedRange<Double> = 0.03...1.5
    /// Position angle range in radians (the model is π-periodic in pa).
    public var pa: ClosedRange<Double> = (-Double.pi / 2)...(Double.pi / 2)
    /// Half-width of the position box around the starting position, arcsec.
    public var positionHalfWidth: Double = 0.5
    /// Prior on r_half inside `rhalf`: log-uniform (p ∝ 1/r_half, true) or uniform (false). A
    /// size is a scale parameter; a uniform prior puts most of its mass at the large radii where
    /// the likelihood is flattest, and, since a larger r_half holds more flux in its wings, pulls
    /// the fluxes up (issue 16, measured on the own-model mock whose radii are log-uniform).
    public var rhalfLogUniform: Bool = true
    /// Lower bound on each flux, in units of that flux's noise σ_F at the patch's start (the
    /// flux error of the source's current shape, 1/√(−∂² ln L/∂F²)): flux > −k·σ_F. nil: fluxes
    /// unbounded. Why: two overlapping galaxies of similar shape with fluxes +F and −F + δ fit
    /// the data as well as one of flux δ once their profiles are large and alike, so without a
    /// floor a crowded scene's optimiser ran off along that ridge (measured on the GalSim crowded
    /// scene, seed 21: fluxes +6403 / −6129 nJy for two galaxies of true flux 131 and 171, both
    /// with r_half near the 1.5″ bound). A floor a few σ below zero keeps dropouts' posteriors
    /// (true flux 0, measured negative by noise) while closing that ridge.
    public var fluxFloorSigmas: Double?

    public init() {}
}
