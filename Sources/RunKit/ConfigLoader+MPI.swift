import Foundation
import TesseraMPI
import TesseraRun

extension ConfigLoader {
    /// Collective: rank 0 reads the configuration file and broadcasts its text; every rank parses
    /// the same text, so every rank gets the same configuration or the same error.
    ///
    /// Only rank 0 touches the file: a rank on a node that cannot see it (for example
    /// `--resume DIR` whose `params.json` sits on node-local disk) would otherwise fail alone,
    /// silently, before the run directory check can name its host.
    public static func load<C: Configuration>(_ type: C.Type, from path: String, communicator comm: Communicator) throws -> C {
        var read: ReadOutcome?
        var readError: ConfigError?
        if comm.isRoot {
            if !FileManager.default.fileExists(atPath: path) {
                readError = .missingFile(file: path)
            } else {
                do { read = ReadOutcome(text: try String(contentsOfFile: path, encoding: .utf8), error: nil) } catch {
                    readError = .unreadable(file: path, reason: error.localizedDescription)
                }
            }
            if let readError { read = ReadOutcome(text: nil, error: "\(readError)") }
        }
        let outcome = try comm.broadcast(message: read)
        guard let text = outcome.text else {
            // Every rank throws a ConfigError (rank 0 prints its own).
            throw readError ?? ConfigError.unreadable(file: path, reason: outcome.error ?? "rank 0 could not read it")
        }
        return try parse(C.self, yaml: text, file: path)
    }

    private struct ReadOutcome: Codable {
        let text: String?
        let error: String?
    }
}
