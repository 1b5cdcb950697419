/// The source-plane pixel grid of a map: a square of side `sizeRE` Einstein radii centred on
/// the origin, [−size/2, size/2]², split into `pixels` × `pixels` square pixels. Row-major
/// storage: index = row·pixels + column, rows along y (row 0 at y = −size/2), columns along x.
public struct MapGeometry: Sendable, Equatable, Hashable, Codable {
    /// Side of the map in Einstein radii.
    public let sizeRE: Double
    /// Pixels per side.
    public let pixels: Int

    public init(sizeRE: Double, pixels: Int) throws {
        try MicrolensingError.require(sizeRE.isFinite && sizeRE > 0, "sizeRE", sizeRE, "must be finite and > 0")
        try MicrolensingError.require(pixels >= 1 && pixels <= 65536, "pixels", Double(pixels), "must lie in 1...65536")
        self.sizeRE = sizeRE
        self.pixels = pixels
    }

    /// Half the side, h = size/2.
    public var halfSize: Double { sizeRE / 2 }
    /// Pixel side in Einstein radii.
    public var pixelSize: Double { sizeRE / Double(pixels) }
    /// Pixel area in Einstein radii².
    public var pixelArea: Double { pixelSize * pixelSize }
    /// Coordinate of the centre of column (or row) `i`.
    public func pixelCenter(_ i: Int) -> Double { -halfSize + (Double(i) + 0.5) * pixelSize }
}

/// How densely rays are shot in the image plane.
public enum RayDensity: Sendable, Equatable, Hashable, Codable {
    /// Rays per source pixel for an unlensed source (μ = 1): the image-plane density is
    /// n/pixelArea, and a pixel of magnification μ receives on average μ·n rays. A perfect square
    /// n = k² puts k×k rays per unlensed pixel, aligned with the pixel grid.
    case perSourcePixel(Double)
    /// Rays per Einstein radius² in the image plane.
    case perUnitArea(Double)

    /// Rays per unit image area.
    public func density(pixelArea: Double) -> Double {
        switch self {
        case let .perSourcePixel(n): return n / pixelArea
        case let .perUnitArea(n): return n
        }
    }

    func validate() throws {
        switch self {
        case let .perSourcePixel(n):
            try MicrolensingError.require(n.isFinite && n > 0, "raysPerPixel", n, "must be finite and > 0")
        case let .perUnitArea(n):
            try MicrolensingError.require(n.isFinite && n > 0, "raysPerUnitArea", n, "must be finite and > 0")
        }
    }
}
