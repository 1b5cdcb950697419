import ArgumentParser
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
            case selftest, tabulate
            case clustersMock = "clusters-mock", clustersFit = "clusters-fit", clustersBin = "clusters-bin"
            case clustersEnsemble = "clusters-ensemble"
            case mockScene = "mock-scene", scene
        }

        @Argument(help: "The command whose keys to list: \(Command.allCases.map(\.rawValue).joined(separator: ", ")).")
        var command: Command

        func run() throws {
            switch command {
            case .selftest:
                print(SelfTestConfiguration.documentedTemplate(title: "tessera selftest configuration"))
            case .clustersMock:
                print(ClusterMockConfiguration.documentedTemplate(title: "tessera clusters mock configuration"))
            case .clustersFit:
                print(ClusterFitConfiguration.documentedTemplate(title: "tessera clusters fit configuration"))
            case .mockScene:
                print(MockSceneConfiguration.documentedTemplate(title: "tessera mock-scene configuration"))
            case .scene:
                print(SceneFitConfiguration.documentedTemplate(title: "tessera optimize / sample configuration"))
            case .clustersBin:
                print(ClusterBinConfiguration.documentedTemplate(title: "tessera clusters bin configuration"))
            case .clustersEnsemble:
                print(ClusterEnsembleConfiguration.documentedTemplate(title: "tessera clusters ensemble configuration"))
            case .tabulate:
                print(TableGridConfiguration.documentedTemplate(title: "tessera tabulate grid configuration"))
            }
        }
    }
}
