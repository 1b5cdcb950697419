import ArgumentParser
import BatchRuns
import ClusterRuns
import LensingRuns
import RunKit
import SceneRuns
import TesseraRun

extension Tessera {
    struct ConfigTemplate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config",
            abstract: "Print a documented YAML configuration template for a command.")

        enum Command: String, ExpressibleByArgument, CaseIterable {
            case selftest, tabulate, magmap, lenses, infer
            case clustersMock = "clusters-mock", clustersFit = "clusters-fit", clustersBin = "clusters-bin"
            case clustersEnsemble = "clusters-ensemble"
            case mockScene = "mock-scene", scene
            case batch, batchFit = "batch-fit", batchInput = "batch-input"

            /// The configuration type behind the command, and the command's name in the title.
            var documented: (any Configuration.Type, String) {
                switch self {
                case .selftest: (SelfTestConfiguration.self, "selftest")
                case .tabulate: (TableGridConfiguration.self, "tabulate grid")
                case .magmap: (MagMapConfiguration.self, "magmap")
                case .lenses: (LensPopulationConfiguration.self, "lenses mock / selection build")
                case .infer: (InferConfiguration.self, "infer")
                case .clustersMock: (ClusterMockConfiguration.self, "clusters mock")
                case .clustersFit: (ClusterFitConfiguration.self, "clusters fit")
                case .clustersBin: (ClusterBinConfiguration.self, "clusters bin")
                case .clustersEnsemble: (ClusterEnsembleConfiguration.self, "clusters ensemble")
                case .mockScene: (MockSceneConfiguration.self, "mock-scene")
                case .scene: (SceneFitConfiguration.self, "optimize / sample")
                case .batch: (BatchConfiguration.self, "batch setup (RUNCONFIG)")
                case .batchFit: (BatchFitConfiguration.self, "batch setup, section fit")
                case .batchInput: (BatchInputConfiguration.self, "batch setup, section input")
                }
            }
        }

        @Argument(help: "The command whose keys to list: \(Command.allCases.map(\.rawValue).joined(separator: ", ")).")
        var command: Command

        func run() throws {
            let (type, title) = command.documented
            print(type.documentedTemplate(title: "tessera \(title) configuration"))
        }
    }
}
