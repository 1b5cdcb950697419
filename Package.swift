// swift-tools-version:6.0
//
// Tessera: MPI-parallel Bayesian fitting of astronomical images and lensing data.
//
// Layers (arrows point down only; see README "Architecture"):
//   tessera (executable) → SceneRuns / LensingRuns / ClusterRuns → RunKit → WorkQueue → science →
//   TesseraRun / TesseraMPI / TesseraHDF5 / TesseraFITS /
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

// Debug builds (what `swift test` runs) optimise the numeric science targets: their pixel, ray
// and sampler loops run many times slower unoptimised, and they set the test suite's time on 2
// cores. Release builds are unaffected; TESSERA_DEBUG_ONONE=1 leaves them unoptimised (debugger).
let optimisedInDebug: [SwiftSetting] = ProcessInfo.processInfo.environment["TESSERA_DEBUG_ONONE"] == nil
    ? [.unsafeFlags(["-O"], .when(configuration: .debug))] : []

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
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
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
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // MARK: Platform: typed, safe Swift layers.
        .target(name: "TesseraSupport", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "TesseraMPI", dependencies: ["CMPI", "TesseraSupport"]),
        .target(name: "TesseraHDF5", dependencies: ["CHDF5", "CMPI", "TesseraMPI", "TesseraSupport"]),
        .target(name: "TesseraFITS", dependencies: ["CFITSIO", "Astrometry", "TesseraSupport"]),
        .target(name: "TesseraLinAlg", dependencies: ["COpenBLAS", "TesseraSupport"]),
        .target(name: "TesseraPNG", dependencies: ["CPNG"]),
        // Colour maps, stretches, rasters and SVG figures: pure, no files.
        .target(name: "Plotting"),
        .target(name: "TesseraRun", dependencies: [
            "TesseraSupport", .product(name: "Yams", package: "Yams"), .product(name: "CSV", package: "CSV.swift"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // MARK: The one master/worker engine under every runner.
        .target(name: "WorkQueue", dependencies: ["TesseraMPI", "TesseraSupport", .product(name: "SystemPackage", package: "swift-system")]),

        // MARK: Science: pure computation, no MPI, no files.
        .target(name: "Astrometry", dependencies: ["TesseraSupport"]),
        .target(name: "Microlensing", dependencies: ["TesseraSupport", .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimisedInDebug),
        .target(name: "HaloProfiles", dependencies: ["TesseraSupport", .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimisedInDebug),
        .target(name: "Inference", dependencies: ["TesseraSupport", "TesseraLinAlg", .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimisedInDebug),
        .target(name: "SceneModel", dependencies: ["Astrometry", "TesseraSupport"],
                resources: [.copy("Resources/sersic_mixture.json")], swiftSettings: sceneModelSettings + optimisedInDebug),
        .target(name: "SceneFitting", dependencies: ["Astrometry", "SceneModel", "Inference", "TesseraLinAlg", "TesseraSupport"], swiftSettings: optimisedInDebug),
        .target(name: "ClusterFitting", dependencies: ["HaloProfiles", "Inference", "TesseraLinAlg", "TesseraSupport"], swiftSettings: optimisedInDebug),
        .target(name: "StrongLensing", dependencies: ["HaloProfiles", "ClusterFitting", .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimisedInDebug),
        .target(name: "Stamps", dependencies: ["SceneModel", "TesseraSupport"], swiftSettings: optimisedInDebug),
        .target(name: "LensInference", dependencies: ["StrongLensing", "Microlensing", "HaloProfiles", "Inference", "TesseraSupport", .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimisedInDebug),

        // MARK: Runners: whole jobs wiring science to files and ranks, one target per domain over a
        // small shared run kit. Runner targets never import each other.
        .target(name: "RunKit", dependencies: [
            "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraRun", "WorkQueue",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "MEDSIO", dependencies: ["Stamps", "TesseraFITS", "TesseraSupport"]),
        // The scene inputs (pixel store, PSF store) and their per-object stamp view: shared by the
        // scene runner and the batch runner, which never import each other.
        .target(name: "ImageStores", dependencies: ["Astrometry", "SceneModel", "Stamps", "TesseraFITS", "TesseraHDF5", "TesseraSupport"]),
        .target(name: "StampFitting", dependencies: ["Stamps", "SceneModel", "SceneFitting", "Inference", "Astrometry"], swiftSettings: optimisedInDebug),
        .target(name: "SceneRuns", dependencies: [
            "RunKit", "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraRun", "WorkQueue",
            "Astrometry", "SceneModel", "SceneFitting", "Inference", "ImageStores",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "LensingRuns", dependencies: [
            "RunKit", "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraRun", "WorkQueue", "Microlensing",
            "LensInference", "HaloProfiles", "StrongLensing", "Inference", "TesseraLinAlg",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        .target(name: "ClusterRuns", dependencies: [
            "RunKit", "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraLinAlg", "TesseraRun", "WorkQueue",
            "HaloProfiles", "ClusterFitting",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        .target(name: "BatchRuns", dependencies: [
            "RunKit", "TesseraSupport", "TesseraMPI", "TesseraFITS", "TesseraHDF5", "TesseraRun", "WorkQueue",
            "Stamps", "MEDSIO", "StampFitting", "SceneModel", "SceneFitting", "ImageStores", "Astrometry",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // MARK: Reports: HTML pages of finished runs of every domain (reads what the runners wrote).
        .target(name: "RunReports", dependencies: [
            "Plotting", "TesseraPNG", "SceneRuns", "ImageStores", "LensingRuns", "ClusterRuns", "TesseraHDF5", "TesseraFITS", "TesseraRun",
            "TesseraSupport", "SceneModel", "SceneFitting", "Inference", "Astrometry", "ClusterFitting", "HaloProfiles",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // MARK: The command line.
        .executableTarget(name: "tessera", dependencies: [
            "TesseraSupport", "TesseraMPI", "TesseraHDF5", "TesseraFITS", "TesseraLinAlg", "TesseraRun",
            "RunKit", "SceneRuns", "LensingRuns", "ClusterRuns", "Microlensing", "SceneModel", "SceneFitting", "RunReports",
            "Stamps", "MEDSIO", "BatchRuns", "ImageStores",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // MARK: Benchmarks (run with `swift run -c release tessera-bench`).
        .executableTarget(name: "tessera-bench", dependencies: ["Microlensing", "HaloProfiles", "Astrometry", "SceneModel", "SceneFitting", "SceneRuns", "ImageStores", "LensingRuns", "ClusterRuns", "TesseraSupport", "Inference", "TesseraLinAlg", "ClusterFitting", "StrongLensing", "LensInference", "Stamps", "StampFitting", .product(name: "SystemPackage", package: "swift-system")],
                          path: "Benchmarks/TesseraBench"),

        // MARK: Tests.
        // Helpers shared by the test targets (temporary directories, throw assertions).
        .target(name: "TesseraTestSupport", path: "Tests/TesseraTestSupport"),
        .testTarget(name: "TesseraSupportTests", dependencies: ["TesseraSupport", "TesseraTestSupport"]),
        .testTarget(name: "TesseraMPITests", dependencies: ["TesseraMPI"]),
        .testTarget(name: "TesseraHDF5Tests", dependencies: ["TesseraHDF5", "TesseraMPI"]),
        .testTarget(name: "TesseraFITSTests", dependencies: ["TesseraFITS", "Astrometry", "TesseraTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TesseraLinAlgTests", dependencies: ["TesseraLinAlg"]),
        .testTarget(name: "TesseraRunTests", dependencies: ["TesseraRun", "TesseraSupport", "TesseraTestSupport"]),
        .testTarget(name: "RunnersTests",
                    dependencies: ["RunKit", "Inference", "SceneRuns", "ImageStores", "LensingRuns", "ClusterRuns", "TesseraHDF5", "TesseraMPI", "TesseraRun", "Astrometry", "SceneModel", "TesseraFITS", "Microlensing", "TesseraTestSupport", "WorkQueue"]),
        .testTarget(name: "WorkQueueTests", dependencies: ["WorkQueue", "TesseraMPI"]),
        .testTarget(name: "HaloProfilesTests", dependencies: ["HaloProfiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "InferenceTests", dependencies: ["Inference", "TesseraSupport", "TesseraLinAlg"]),
        .testTarget(name: "ClusterFittingTests", dependencies: ["ClusterFitting", "HaloProfiles", "Inference", "TesseraSupport"]),
        .testTarget(name: "AstrometryTests", dependencies: ["Astrometry", "TesseraTestSupport"]),
        .testTarget(name: "SceneModelTests", dependencies: ["SceneModel", "Astrometry", "TesseraSupport", "TesseraTestSupport"]),
        .testTarget(name: "SceneFittingTests", dependencies: ["SceneFitting", "SceneModel", "Astrometry", "Inference", "TesseraSupport", "TesseraTestSupport"]),
        .testTarget(name: "MicrolensingTests", dependencies: ["Microlensing", "TesseraSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Plotting", "TesseraPNG", "RunReports", "SceneRuns", "SceneModel", "SceneFitting", "Astrometry", "TesseraTestSupport"]),
        .testTarget(name: "StrongLensingTests", dependencies: ["StrongLensing", "HaloProfiles"], resources: [.copy("Fixtures")]),
        .testTarget(name: "BatchRunsTests", dependencies: ["BatchRuns", "StampFitting", "Stamps", "MEDSIO", "TesseraFITS", "TesseraRun", "TesseraTestSupport", "ImageStores", "SceneRuns", "SceneFitting", "SceneModel", "Astrometry", "TesseraSupport"]),
        .testTarget(name: "StampFittingTests", dependencies: ["StampFitting", "Stamps", "SceneModel"]),
        .testTarget(name: "StampsTests", dependencies: ["Stamps", "MEDSIO", "TesseraFITS", "TesseraTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "LensInferenceTests", dependencies: ["LensInference", "Inference", "StrongLensing", "Microlensing", "LensingRuns", "HaloProfiles", "TesseraSupport", "TesseraHDF5", "TesseraRun"], resources: [.copy("Fixtures")]),
        // The layer rule: every import checked against Tests/ArchitectureTests/allowed-imports.txt.
        .testTarget(name: "ArchitectureTests", exclude: ["allowed-imports.txt"]),
        // Launches the built `tessera` binary under `mpirun -np 2` and `-np 4`.
        .testTarget(name: "MultiRankTests", dependencies: ["tessera", "TesseraHDF5", "TesseraFITS", "Astrometry", "TesseraSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
