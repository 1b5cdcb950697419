/// Settings of the hierarchical (far/near) deflection used in ray shooting.
///
/// The shooting rectangle is tiled by square cells of side L (a whole number of ray spacings).
/// For a cell with centre z_c and half-diagonal r = L/√2:
/// - near stars, those in the (2n+1)×(2n+1) block of cells around it (n = `nearCells`), are
///   summed directly for every ray;
/// - all other stars enter through a Taylor (local) expansion of conj(α*) about z_c of order p
///   (`order`), built from the multipole tree with opening angle θ (`openingAngle`): nodes with
///   (r_node + r)/d ≤ θ by multipole-to-local translation, leaves star by star.
/// The error bound is `RayShooter.relativeErrorFactor`; see `LocalExpansion`.
public struct DeflectionAccuracy: Sendable, Equatable, Hashable, Codable {
    /// Expansion order p of multipoles and local expansions.
    public var order: Int
    /// Opening angle θ of the multipole-to-local translations.
    public var openingAngle: Double
    /// n: cells on each side of a cell whose stars are summed directly (≥ 1).
    public var nearCells: Int
    /// Mean number of stars per cell; sets the cell side L = √(starsPerCell/n*), with n* the
    /// star number density. The near block then holds about (2n+1)²·starsPerCell stars.
    public var starsPerCell: Double
    /// Most stars in a tree leaf.
    public var leafSize: Int

    public init(order: Int = 16, openingAngle: Double = 0.5, nearCells: Int = 1, starsPerCell: Double = 0.3,
                leafSize: Int = 8) {
        self.order = order
        self.openingAngle = openingAngle
        self.nearCells = nearCells
        self.starsPerCell = starsPerCell
        self.leafSize = leafSize
    }

    func validate() throws {
        try MicrolensingError.require(order >= 1 && order <= MultipoleTree.maximumOrder, "order", Double(order),
                                      "must lie in 1...\(MultipoleTree.maximumOrder)")
        try MicrolensingError.require(openingAngle > 0 && openingAngle < 1, "openingAngle", openingAngle, "must lie in (0, 1)")
        try MicrolensingError.require(nearCells >= 1 && nearCells <= 8, "nearCells", Double(nearCells), "must lie in 1...8")
        try MicrolensingError.require(starsPerCell.isFinite && starsPerCell > 0, "starsPerCell", starsPerCell, "must be > 0")
        try MicrolensingError.require(leafSize >= 1, "leafSize", Double(leafSize), "must be >= 1")
    }
}

/// Everything that defines one magnification map besides the macro model.
public struct MapSettings: Sendable, Equatable, Hashable, Codable {
    /// Side of the source-plane map in Einstein radii (centred on 0).
    public var sizeRE: Double
    /// Pixels per side.
    public var pixels: Int
    /// Ray density (default: 16 unlensed rays per pixel, 4×4 aligned with the pixels).
    public var rayDensity: RayDensity
    /// Seed of the star field.
    public var seed: UInt64
    /// Stellar mass function.
    public var massFunction: MassFunction
    /// Light loss ε that sizes the shooting region (`ShootingRegion`).
    public var lightLoss: Double
    /// Far/near deflection settings.
    public var accuracy: DeflectionAccuracy
    /// Fix the star mass in the map's pre-image to its expectation and cancel the stars'
    /// realised mean shear there (`MeanFieldCompensation`), so that the map is a sample at
    /// exactly the model's (κ, γ).
    public var compensateMeanField: Bool
    /// Ray counting or polygon mapping over the same image-plane grid (`MapMethod`).
    public var method: MapMethod

    /// 16 = 4×4 rays per unlensed pixel: a pixel of magnification μ gets ~16μ hits.
    public static let defaultRaysPerPixel = 16.0
    /// ε = 0.01 (the largest value Weisenbach et al.'s code accepts): source margin
    /// D = √(κ*⟨m²⟩/(⟨m⟩ε)) = 10√κ* Einstein radii for unit masses; the map mean is then biased
    /// low by ≈ √(κ*ε)/(2h) (0.19% for the 25 θ_E, κ* = 0.225 reference case; 0.17% measured).
    /// Use 0.001 for Weisenbach's default (≈2.5× the rays for that case).
    public static let defaultLightLoss = 0.01

    public init(sizeRE: Double = 25, pixels: Int = 1000,
                rayDensity: RayDensity = .perSourcePixel(MapSettings.defaultRaysPerPixel),
                seed: UInt64 = 1, massFunction: MassFunction = .unit,
                lightLoss: Double = MapSettings.defaultLightLoss, accuracy: DeflectionAccuracy = DeflectionAccuracy(),
                compensateMeanField: Bool = true, method: MapMethod = .rayShooting) {
        self.sizeRE = sizeRE
        self.pixels = pixels
        self.rayDensity = rayDensity
        self.seed = seed
        self.massFunction = massFunction
        self.lightLoss = lightLoss
        self.accuracy = accuracy
        self.compensateMeanField = compensateMeanField
        self.method = method
    }
}
