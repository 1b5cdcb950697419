// swift-tools-version:6.0
//
// Tessera: MPI-parallel Bayesian fitting of astronomical images and lensing data.
//
// Layers (arrows point down only; see README "Architecture"):
//   tessera (executable) → TesseraRunners → TesseraRun / TesseraMPI / TesseraHDF5 / TesseraFITS /
//   TesseraLinAlg → TesseraSupport → C bindings (CMPI, CHDF5, CFITSIO, COpenBLAS).
// Raw pointers and C types stop at the Tessera{MPI,HDF5,FITS,LinAlg} targets.
import Foundation
import PackageDescription

// SceneModel's pixel loop is written for AVX2 + FMA (x86-64-v3: every x86 server CPU since
// 2013). Without these flags the compiler emits baseline SSE2 code at about a third of the
// throughput. TESSERA_PORTABLE=1 builds baseline x86-64 code instead.
let sceneModelSettings: [SwiftSetting] = {
    #if arch(x86_64)
    if ProcessInfo.processInfo.environment["TESSERA_PORTABLE"] == nil {
        return [.define("TESSERA_FMA"), .unsafeFlags(["-target-cpu", "haswell"])]
    }
    #endif
    return []
}()

let package = Package(
    name: "Tessera",
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraPlatform", targets: [
            "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraLinAlg", "TesseraRun",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // MARK: C bindings: module maps and static-inline shims only.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-openmpi",
                       providers: [.apt(["libhdf5-openmpi-dev"])]),
        .systemLibrary(name: "CFITSIO", path: "Sources/CFITSIO", pkgConfig: "cfitsio",
                       providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),

        // MARK: Platform: typed, safe Swift layers.
        .target(name: "TesseraSupport"),
        .target(name: "TesseraMPI", dependencies: ["CMPI", "TesseraSupport"]),
        .target(name: "TesseraHDF5", dependencies: ["CHDF5", "CMPI", "TesseraMPI", "TesseraSupport"]),
        .target(name: "TesseraFITS", dependencies: ["CFITSIO", "Astrometry", "TesseraSupport"]),
        .target(name: "TesseraLinAlg", dependencies: ["COpenBLAS", "TesseraSupport"]),
        .target(name: "TesseraRun", dependencies: ["TesseraSupport", .product(name: "Yams", package: "Yams")]),

        // MARK: The one master/worker engine under every runner.
        .target(name: "WorkQueue", dependencies: ["TesseraMPI", "TesseraSupport"]),

        // MARK: Science: pure computation, no MPI, no files.
        .target(name: "Astrometry", dependencies: ["TesseraSupport"]),
        .target(name: "Microlensing", dependencies: ["TesseraSupport"]),
        .target(name: "HaloProfiles", dependencies: ["TesseraSupport"]),
        .target(name: "Inference", dependencies: ["TesseraSupport", "TesseraLinAlg"]),
        .target(name: "SceneModel", dependencies: ["Astrometry", "TesseraSupport"],
                resources: [.copy("Resources/sersic_mixture.json")], swiftSettings: sceneModelSettings),
        .target(name: "SceneFitting", dependencies: ["Astrometry", "SceneModel", "Inference", "TesseraLinAlg", "TesseraSupport"]),
        .target(name: "ClusterFitting", dependencies: ["HaloProfiles", "Inference", "TesseraLinAlg", "TesseraSupport"]),

        // MARK: Runners: whole jobs built from the platform (and, later, science) layers.
        .target(name: "TesseraRunners", dependencies: [
            "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraRun", "WorkQueue", "Microlensing",
            "ClusterFitting", "HaloProfiles", "TesseraLinAlg", "TesseraFITS", "Astrometry", "SceneModel", "SceneFitting", "Inference",
        ]),

        // MARK: The command line.
        .executableTarget(name: "tessera", dependencies: [
            "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraLinAlg", "TesseraRun",
            "TesseraRunners", "Microlensing", "SceneModel", "SceneFitting",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Benchmarks (run with `swift run -c release tessera-bench`).
        .executableTarget(name: "tessera-bench", dependencies: ["Microlensing", "HaloProfiles", "Astrometry", "SceneModel", "TesseraRunners", "TesseraSupport", "Inference", "TesseraLinAlg", "ClusterFitting"],
                          path: "Benchmarks/TesseraBench"),

        // MARK: Tests.
        .testTarget(name: "TesseraSupportTests", dependencies: ["TesseraSupport"]),
        .testTarget(name: "TesseraMPITests", dependencies: ["TesseraMPI"]),
        .testTarget(name: "TesseraHDF5Tests", dependencies: ["TesseraHDF5", "TesseraMPI"]),
        .testTarget(name: "TesseraFITSTests", dependencies: ["TesseraFITS", "Astrometry"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TesseraLinAlgTests", dependencies: ["TesseraLinAlg"]),
        .testTarget(name: "TesseraRunTests", dependencies: ["TesseraRun"]),
        .testTarget(name: "TesseraRunnersTests",
                    dependencies: ["TesseraRunners", "TesseraHDF5", "TesseraMPI", "TesseraRun", "Astrometry", "SceneModel", "TesseraFITS", "Microlensing"]),
        .testTarget(name: "WorkQueueTests", dependencies: ["WorkQueue", "TesseraMPI"]),
        .testTarget(name: "HaloProfilesTests", dependencies: ["HaloProfiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "TesseraSupport", "TesseraLinAlg"]),
        .testTarget(name: "ClusterFittingTests", dependencies: ["ClusterFitting", "HaloProfiles", "Inference", "TesseraSupport"]),
        .testTarget(name: "AstrometryTests", dependencies: ["Astrometry"]),
        .testTarget(name: "SceneModelTests", dependencies: ["SceneModel", "Astrometry", "TesseraSupport"]),
        .testTarget(name: "SceneFittingTests", dependencies: ["SceneFitting", "SceneModel", "Astrometry", "Inference", "TesseraSupport"]),
        .testTarget(name: "MicrolensingTests", dependencies: ["Microlensing", "TesseraSupport"]),
        // Launches the built `tessera` binary under `mpirun -np 2` and `-np 4`.
        .testTarget(name: "MultiRankTests", dependencies: ["tessera", "TesseraHDF5", "TesseraFITS", "Astrometry", "TesseraSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
