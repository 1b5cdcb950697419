import TesseraSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Point-mass stars filling a disk of radius R* (centred on the origin) uniformly, with mean
/// surface density κ*.
///
/// Number and radius (the convention of Weisenbach et al.'s `microlensing` code):
/// - In Einstein-radius units a uniform disk of radius R and convergence κ* has total mass
///   M = κ*·R² (its deflection at the rim, M/R, equals κ*·R). The number of stars is drawn
///   deterministically from that expectation, N = ⌈κ*·R²_requested/⟨m⟩⌉ (no Poisson draw of N:
///   a fixed N makes the field reproducible and its star count exact).
/// - Masses are drawn from the mass function (stream 0 of the seed), and the disk radius is then
///   set so that the *realised* mass gives exactly κ*: R* = √(Σmᵢ/κ*). For fixed masses this is
///   ≥ the requested radius; for a mass spectrum it differs from it by a relative
///   ~σ_m/(2⟨m⟩√N).
/// - Positions are uniform in the disk (stream 1): r = R*·√u, φ = 2πv.
///
/// Explicit fields (any positions, e.g. a single star for tests) can be built with
/// `init(x:y:mass:radius:)`; their κ* is Σm/R².
public struct StarField: Sendable, Equatable {
    /// Star positions in Einstein radii (of 1 M☉).
    public let x: [Double]
    public let y: [Double]
    /// Masses in M☉.
    public let mass: [Double]
    /// Disk radius R* in Einstein radii.
    public let radius: Double
    /// Convergence in stars, Σm/R*².
    public let kappaStar: Double
    /// Seed the field was drawn from (nil for explicit fields).
    public let seed: UInt64?

    /// Largest number of stars a generated field may have.
    public static let maximumCount = 100_000_000

    public var count: Int { x.count }
    public var totalMass: Double { mass.reduce(0, +) }

    /// N = ⌈κ*·R²/⟨m⟩⌉, the deterministic star count for a disk of radius R.
    public static func expectedCount(kappaStar: Double, radius: Double, meanMass: Double) -> Int {
        let n = kappaStar * radius * radius / meanMass
        // Tolerate rounding so that an exact integer expectation is not bumped up by one.
        return n <= 0 ? 0 : Int((n * (1 - 1e-12)).rounded(.up))
    }

    /// A random field of surface density `kappaStar` covering at least (for fixed masses) a disk
    /// of radius `radius`.
    public init(kappaStar: Double, radius: Double, massFunction: MassFunction = .unit, seed: UInt64) throws {
        try MicrolensingError.require(kappaStar.isFinite && kappaStar >= 0, "kappaStar", kappaStar, "must be finite and >= 0")
        try MicrolensingError.require(radius.isFinite && radius > 0, "starFieldRadius", radius, "must be finite and > 0")
        try massFunction.validate()
        let expected = kappaStar * radius * radius / massFunction.meanMass
        if expected > Double(Self.maximumCount) {
            throw MicrolensingError.tooLarge(quantity: "stars", value: expected, limit: Double(Self.maximumCount))
        }
        let n = Self.expectedCount(kappaStar: kappaStar, radius: radius, meanMass: massFunction.meanMass)
        var massRNG = RandomSource(seed: seed, stream: 0)
        var m = [Double](repeating: 0, count: n)
        for i in 0..<n { m[i] = massFunction.sample(using: &massRNG) }
        let total = m.reduce(0, +)
        let r = n > 0 ? (total / kappaStar).squareRoot() : radius
        var posRNG = RandomSource(seed: seed, stream: 1)
        var xs = [Double](repeating: 0, count: n), ys = [Double](repeating: 0, count: n)
        for i in 0..<n {
            let rr = r * posRNG.uniform().squareRoot()
            let phi = 2 * Double.pi * posRNG.uniform()
            xs[i] = rr * cos(phi)
            ys[i] = rr * sin(phi)
        }
        self.x = xs
        self.y = ys
        self.mass = m
        self.radius = r
        self.kappaStar = n > 0 ? kappaStar : 0
        self.seed = seed
    }

    /// An explicit field; `radius` is the disk the stars are meant to represent (κ* = Σm/R²).
    public init(x: [Double], y: [Double], mass: [Double], radius: Double) throws {
        try MicrolensingError.require(x.count == y.count && x.count == mass.count, "starCount", Double(x.count),
                                      "x, y and mass must have the same length")
        try MicrolensingError.require(radius.isFinite && radius > 0, "starFieldRadius", radius, "must be finite and > 0")
        for m in mass {
            try MicrolensingError.require(m.isFinite && m > 0, "mass", m, "must be finite and > 0")
        }
        for v in x + y {
            try MicrolensingError.require(v.isFinite, "starPosition", v, "must be finite")
        }
        self.x = x
        self.y = y
        self.mass = mass
        self.radius = radius
        self.kappaStar = mass.reduce(0, +) / (radius * radius)
        self.seed = nil
    }
}
