import Foundation

/// One 2-D Gaussian component in **pixel** units: amplitude (dimensionless weight; a normalised
/// mixture's amplitudes sum to 1), mean offset (x, y) in pixels relative to the mixture's centre,
/// and covariance (cxx, cxy, cyy) in pixels².
public struct GaussianComponent: Sendable, Codable, Equatable {
    public var amplitude: Double
    public var x: Double
    public var y: Double
    public var cxx: Double
    public var cxy: Double
    public var cyy: Double

    public init(amplitude: Double, x: Double = 0, y: Double = 0, cxx: Double, cxy: Double = 0, cyy: Double) {
        self.amplitude = amplitude; self.x = x; self.y = y; self.cxx = cxx; self.cxy = cxy; self.cyy = cyy
    }

    /// Value of the normalised Gaussian (amplitude × density) at pixel offset (dx, dy) from the centre.
    public func density(dx: Double, dy: Double) -> Double {
        let det = cxx * cyy - cxy * cxy
        let ux = dx - x, uy = dy - y
        let chi2 = (cyy * ux * ux - 2 * cxy * ux * uy + cxx * uy * uy) / det
        return amplitude * exp(-0.5 * chi2) / (2 * Double.pi * det.squareRoot())
    }
}

/// A PSF as a mixture of Gaussians in the **pixel** frame of one exposure (or of every exposure
/// of a band, when the store keys it by band only). Amplitudes sum to 1, so convolving a source
/// with it conserves flux.
public struct PSFMixture: Sendable, Codable, Equatable {
    public var components: [GaussianComponent]

    public init(components: [GaussianComponent]) { self.components = components }

    /// A single circular Gaussian of standard deviation `sigma` pixels.
    public static func gaussian(sigma: Double) -> PSFMixture {
        PSFMixture(components: [GaussianComponent(amplitude: 1, cxx: sigma * sigma, cyy: sigma * sigma)])
    }

    public var totalAmplitude: Double { components.reduce(0) { $0 + $1.amplitude } }

    /// Checks that the mixture is usable: at least one component, finite values, positive-definite covariances.
    public func validate(name: String) throws {
        guard !components.isEmpty else { throw SceneModelError.invalidArgument("PSF \(name): no components") }
        for (i, c) in components.enumerated() {
            let ok = [c.amplitude, c.x, c.y, c.cxx, c.cxy, c.cyy].allSatisfy(\.isFinite)
                && c.cxx > 0 && c.cyy > 0 && c.cxx * c.cyy - c.cxy * c.cxy > 0
            guard ok else { throw SceneModelError.invalidArgument("PSF \(name): component \(i) is not a finite positive-definite Gaussian") }
        }
    }
}
