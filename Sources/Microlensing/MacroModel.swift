/// The macro model of a lensed image: total convergence κ, shear γ (along the x axis) and the
/// fraction s of κ in smooth matter.
///
/// Conventions (Kayser, Refsdal & Stabell 1986; Schechter & Wambsganss 2002):
/// - κ_s = s·κ is smooth (a uniform sheet), κ* = (1 − s)·κ is in point-mass stars.
/// - Lens equation ("smooth-only macro term"), lengths in Einstein radii of 1 M☉:
///
///       y₁ = (1 − κ_s − γ) x₁ − α*₁(x),   y₂ = (1 − κ_s + γ) x₂ − α*₂(x),
///       α*(x) = Σᵢ mᵢ (x − xᵢ)/|x − xᵢ|².
///
///   The stars fill a disk of radius R* uniformly; the mean deflection of a uniform disk at a
///   point inside it is κ*·x (Gauss's law in 2-D), so on average the stars supply the missing
///   κ* and the total macro convergence inside the disk is κ_s + κ* = κ. This is why no negative
///   mass sheet is needed: codes that add the full κ as a smooth term (1 − κ − γ) must cancel
///   the stars' own mean with a sheet of −κ*; here the stars' mean is simply not added twice.
///   The convention is exact only inside the disk, which is why the shooting region must lie
///   well inside R* (see `ShootingRegion`).
/// - Macro eigenvalues λx = 1 − κ − γ, λy = 1 − κ + γ; theoretical mean magnification
///   μ_th = 1/|λx·λy| = 1/|(1 − κ)² − γ²|.
public struct MacroModel: Sendable, Equatable, Hashable, Codable {
    /// Total convergence κ ≥ 0.
    public let kappa: Double
    /// External shear γ ≥ 0, along the x axis.
    public let gamma: Double
    /// Smooth fraction s ∈ [0, 1]: κ_s = s·κ.
    public let smoothFraction: Double

    /// Relative distance from a critical curve below which a model is rejected:
    /// |λx·λy| < `criticalTolerance`·max(1, (1−κ)²+γ²).
    public static let criticalTolerance = 1e-9

    /// Validates κ ≥ 0, γ ≥ 0, 0 ≤ s ≤ 1 and that the model is not on a critical curve.
    public init(kappa: Double, gamma: Double, smoothFraction: Double = 0) throws {
        try MicrolensingError.require(kappa.isFinite && kappa >= 0, "kappa", kappa, "must be finite and >= 0")
        try MicrolensingError.require(gamma.isFinite && gamma >= 0, "gamma", gamma, "must be finite and >= 0")
        try MicrolensingError.require(smoothFraction.isFinite && smoothFraction >= 0 && smoothFraction <= 1,
                                      "smoothFraction", smoothFraction, "must lie in [0, 1]")
        let lx = 1 - kappa - gamma, ly = 1 - kappa + gamma
        let scale = max(1, (1 - kappa) * (1 - kappa) + gamma * gamma)
        if abs(lx * ly) < Self.criticalTolerance * scale {
            throw MicrolensingError.onCriticalCurve(kappa: kappa, gamma: gamma)
        }
        self.kappa = kappa
        self.gamma = gamma
        self.smoothFraction = smoothFraction
    }

    /// Convergence in stars, κ* = (1 − s)·κ.
    public var kappaStar: Double { (1 - smoothFraction) * kappa }
    /// Convergence in smooth matter, κ_s = s·κ.
    public var kappaSmooth: Double { smoothFraction * kappa }
    /// Macro eigenvalue along the shear axis, λx = 1 − κ − γ.
    public var lambdaX: Double { 1 - kappa - gamma }
    /// Macro eigenvalue across the shear axis, λy = 1 − κ + γ.
    public var lambdaY: Double { 1 - kappa + gamma }
    /// Theoretical mean magnification μ_th = 1/|(1 − κ)² − γ²|.
    public var theoreticalMagnification: Double { 1 / abs(lambdaX * lambdaY) }
    /// Coefficients of the linear (smooth + shear) part of the lens equation:
    /// y₁ = cx·x₁ − α*₁, y₂ = cy·x₂ − α*₂ with cx = 1 − κ_s − γ, cy = 1 − κ_s + γ.
    public var smoothCoefficients: (x: Double, y: Double) { (1 - kappaSmooth - gamma, 1 - kappaSmooth + gamma) }

    /// Image type of the macro image (signs of λx, λy).
    public enum ImageType: String, Sendable, Codable {
        /// λx, λy > 0: a minimum of the arrival time, positive parity.
        case minimum
        /// λx·λy < 0: a saddle point, negative parity.
        case saddle
        /// λx, λy < 0 (κ > 1 + γ): a maximum, positive parity.
        case maximum
    }

    public var imageType: ImageType {
        if lambdaX > 0 && lambdaY > 0 { return .minimum }
        if lambdaX < 0 && lambdaY < 0 { return .maximum }
        return .saddle
    }

    /// Parity of the macro image: +1 for minima and maxima, −1 for saddle points.
    public var parity: Int { imageType == .saddle ? -1 : 1 }

    /// Lower bound on the magnification of every positive-parity micro-image, 1/(1 − κ_s)².
    ///
    /// Stars add no convergence away from their positions, so the Jacobian of any image is
    /// det A = (1 − κ_s)² − |Γ|², with Γ the total complex shear; positive parity
    /// (|Γ| < 1 − κ_s) then gives μ = 1/det A ≥ 1/(1 − κ_s)². For a *minimum* macro image the
    /// arrival time has a global minimum near the macro image for every source position, so
    /// every pixel of the map is at least this (Schneider's 1984 minimum-magnification theorem with
    /// the smooth sheet included; the same check is made by Weisenbach et al.'s `microlensing`
    /// code). For saddle points and maxima no positive-parity image
    /// need exist and pixels can be demagnified below it (Schechter & Wambsganss 2002).
    /// `nil` when κ_s ≥ 1 (no such bound).
    public var minimumPositiveParityMagnification: Double? {
        kappaSmooth < 1 ? 1 / ((1 - kappaSmooth) * (1 - kappaSmooth)) : nil
    }
}
