import TesseraSupport
import RealModule

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
/// - Optionally the mass inside a centred rectangle (a map's pre-image) is fixed to its
///   expectation κ*·A/π instead of left to Poisson noise (`conditionedOn`): two-stratum sampling,
///   uniform positions inside the rectangle and in the rest of the disk, with the expected
///   density in both. See `MeanFieldCompensation` for why.
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

    /// A centred rectangle [−halfWidthX, halfWidthX] × [−halfWidthY, halfWidthY] (Einstein radii).
    public struct Rectangle: Sendable, Equatable, Hashable, Codable {
        public var halfWidthX: Double, halfWidthY: Double
        public init(halfWidthX: Double, halfWidthY: Double) {
            self.halfWidthX = halfWidthX
            self.halfWidthY = halfWidthY
        }
        public var area: Double { 4 * halfWidthX * halfWidthY }
        func contains(_ x: Double, _ y: Double) -> Bool { abs(x) < halfWidthX && abs(y) < halfWidthY }
    }

    /// A random field of surface density `kappaStar` covering at least (for fixed masses) a disk
    /// of radius `radius`.
    ///
    /// `conditionedOn`: a rectangle inside the disk whose star mass is fixed to its expectation
    /// M_A = κ*·A/π (the mean over fields) rather than drawn. The stars, in draw order, go inside
    /// while the running mass C + u·mᵢ (one uniform u per field) is below M_A: for unit masses the
    /// rectangle gets ⌊M_A⌋ or ⌈M_A⌉ stars, with probabilities that make the mean exactly M_A
    /// (systematic rounding); for a mass spectrum the mass inside is M_A to within about one
    /// star. Positions are uniform inside the rectangle and uniform in the disk outside it, so
    /// the density is κ*/π everywhere on average and the field is Poisson-like (binomial) at
    /// every scale within each of the two regions.
    public init(kappaStar: Double, radius: Double, massFunction: MassFunction = .unit, seed: UInt64,
                conditionedOn rectangle: Rectangle? = nil) throws {
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
        func uniformInDisk() -> (Double, Double) {
            let rr = r * posRNG.uniform().squareRoot()
            let phi = 2 * Double.pi * posRNG.uniform()
            return (rr * Double.cos(phi), rr * Double.sin(phi))
        }
        if let rect = rectangle, n > 0 {
            try MicrolensingError.require(rect.halfWidthX > 0 && rect.halfWidthY > 0, "conditioningRectangle",
                                          min(rect.halfWidthX, rect.halfWidthY), "half-widths must be > 0")
            let corner = (rect.halfWidthX * rect.halfWidthX + rect.halfWidthY * rect.halfWidthY).squareRoot()
            try MicrolensingError.require(corner < r, "conditioningRectangle", corner,
                                          "half-diagonal must lie inside the star field's radius \(r)")
            let target = kappaStar * rect.area / Double.pi
            let u = posRNG.uniform()
            var cumulative = 0.0
            for i in 0..<n {
                if cumulative + u * m[i] < target {
                    xs[i] = rect.halfWidthX * (2 * posRNG.uniform() - 1)
                    ys[i] = rect.halfWidthY * (2 * posRNG.uniform() - 1)
                } else {
                    repeat { (xs[i], ys[i]) = uniformInDisk() } while rect.contains(xs[i], ys[i])
                }
                cumulative += m[i]
            }
        } else {
            for i in 0..<n { (xs[i], ys[i]) = uniformInDisk() }
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
