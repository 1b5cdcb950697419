/// The image-plane rectangle rays are shot from, [−halfWidthX, halfWidthX] × [−halfWidthY,
/// halfWidthY], and the radius of the star field around it.
///
/// Sizing (the convention of Weisenbach et al.'s `microlensing` code, `ipm.cuh`; the two
/// ingredients, a shooting region mapped back through the inverse macro Jacobian with a margin
/// and a star field larger than it, are those of Wambsganss 1999, Kochanek 2004 and Vernardos &
/// Fluke 2013):
///
/// 1. Source margin D (source plane). A star of mass m deflects rays passing within m/δ of it
///    by more than δ; with star number density κ*/(π⟨m⟩) the probability of a deflection larger
///    than δ is κ*⟨m²⟩/(⟨m⟩δ²) (the large-deflection tail, Katz, Balbus & Paczyński 1986). Rays
///    shot further than D from the macro pre-image of the map can still land in it with this
///    probability, so a point source at the map's edge loses at most a fraction ε ("light
///    loss") of its flux when
///
///        D = √(κ*⟨m²⟩ / (⟨m⟩ ε)).
///
///    Averaged over the map the loss is much smaller: only rays within ~D of the edges are
///    concerned, and integrating the tail over the four edges gives a mean loss
///    κ*⟨m²⟩/(⟨m⟩·2hD) = √(κ*⟨m²⟩ε/⟨m⟩)/(2h) (e.g. 0.19% for κ* = 0.225, ε = 0.01, h = 12.5).
///    D = 0 without stars (the map is then exact).
/// 2. Shooting half-widths: the source square widened by D on each side, mapped back through the
///    inverse macro Jacobian,
///
///        halfWidthX = (h + D)/|1 − κ − γ|,   halfWidthY = (h + D)/|1 − κ + γ|,
///
///    with h = size/2. Absolute values handle negative parity (saddle points, λx < 0 < λy) and
///    κ > 1 (maxima, both negative): the pre-image of a centred square is the same rectangle,
///    only mirrored. Widening in the source plane is also the cheapest margin for a given loss:
///    the loss per edge ∝ 1/(λᵢ Mᵢ) and the cost ∝ area, which are balanced when every
///    image-plane margin Mᵢ = D/|λᵢ|.
/// 3. Star field radius: the rectangle's half-diagonal plus 10 Einstein radii of the
///    mass-weighted mean star, R* = √(Wx² + Wy²) + 10·√(⟨m²⟩/⟨m⟩), so every ray has stars on all
///    sides out to well beyond the distance (a few θ_E) that shapes the local caustic network;
///    the mean deflection of the disk is exactly κ*·x only inside it. Stars beyond R* would add
///    a nearly uniform deflection (which only translates the pattern) and a tidal field (whose
///    mean over the pre-image `MeanFieldCompensation` cancels): cutting a 612 θ_E field to R*
///    leaves the pooled μ distribution unchanged (`tessera-bench margin`).
public struct ShootingRegion: Sendable, Equatable, Hashable, Codable {
    /// Half-width of the shooting rectangle along x (the shear axis), Einstein radii.
    public let halfWidthX: Double
    /// Half-width along y.
    public let halfWidthY: Double
    /// Source-plane margin D used to size the rectangle (0 for explicit regions).
    public let sourceMargin: Double
    /// Requested radius of the star field (a generated field may end slightly larger).
    public let starFieldRadius: Double

    /// Multiple of √(⟨m²⟩/⟨m⟩) added to the half-diagonal to get the star field radius.
    public static let starFieldMarginInEinsteinRadii = 10.0

    /// An explicit region.
    public init(halfWidthX: Double, halfWidthY: Double, starFieldRadius: Double, sourceMargin: Double = 0) throws {
        try MicrolensingError.require(halfWidthX.isFinite && halfWidthX > 0, "halfWidthX", halfWidthX, "must be finite and > 0")
        try MicrolensingError.require(halfWidthY.isFinite && halfWidthY > 0, "halfWidthY", halfWidthY, "must be finite and > 0")
        try MicrolensingError.require(starFieldRadius.isFinite && starFieldRadius > 0, "starFieldRadius",
                                      starFieldRadius, "must be finite and > 0")
        self.halfWidthX = halfWidthX
        self.halfWidthY = halfWidthY
        self.starFieldRadius = starFieldRadius
        self.sourceMargin = sourceMargin
    }

    /// D = √(κ*⟨m²⟩/(⟨m⟩ε)), the source-plane margin for light loss ε (0 when κ* = 0).
    public static func sourceMargin(kappaStar: Double, massFunction: MassFunction, lightLoss: Double) -> Double {
        guard kappaStar > 0 else { return 0 }
        return (kappaStar * massFunction.meanSquaredMass / (massFunction.meanMass * lightLoss)).squareRoot()
    }

    /// The region for a map of the given geometry (see the type's documentation).
    public init(model: MacroModel, map: MapGeometry, massFunction: MassFunction = .unit, lightLoss: Double) throws {
        try MicrolensingError.require(lightLoss.isFinite && lightLoss > 0 && lightLoss < 1, "lightLoss", lightLoss,
                                      "must lie in (0, 1)")
        try massFunction.validate()
        let d = Self.sourceMargin(kappaStar: model.kappaStar, massFunction: massFunction, lightLoss: lightLoss)
        let wx = (map.halfSize + d) / abs(model.lambdaX)
        let wy = (map.halfSize + d) / abs(model.lambdaY)
        let thetaRMS = (massFunction.meanSquaredMass / massFunction.meanMass).squareRoot()
        let r = (wx * wx + wy * wy).squareRoot() + Self.starFieldMarginInEinsteinRadii * thetaRMS
        try self.init(halfWidthX: wx, halfWidthY: wy, starFieldRadius: r, sourceMargin: d)
    }

    /// Half-diagonal of the rectangle.
    public var halfDiagonal: Double { (halfWidthX * halfWidthX + halfWidthY * halfWidthY).squareRoot() }
    /// Area of the rectangle in Einstein radii².
    public var area: Double { 4 * halfWidthX * halfWidthY }
}
