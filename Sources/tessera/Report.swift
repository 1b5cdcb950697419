import ArgumentParser
import Foundation
import RunReports

extension Tessera {
    /// `tessera report RUN_DIR`: the run's HTML page.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write RUN_DIR/report.html: one self-contained page with a run's metadata, configuration, warnings and pictures.",
            discussion: """
            Scene runs (optimize, sample) get data/model/residual/chi mosaics per exposure with the \
            catalog overlaid, trace and corner plots per source, R-hat and ESS histograms, and with \
            --truth a flux-pull plot; magnification maps and tables (magmap, tabulate) get maps on a \
            log scale and PDFs across the grid; `clusters compare` runs get the bias and scatter \
            posteriors against the truth; `infer` runs get the η corner plot and traces against the \
            catalog's values and each lens's α constraint beside α_sps. Other runs get a page without pictures. Pictures are \
            embedded, so the page is one file; `demo`, `postprocess`, `tabulate`, `infer` and \
            `clusters compare` write it at their end.
            """)
        @Argument(help: "The run directory.") var directory: String
        @Option(help: "Truth catalog (FITS) of a scene run, for the flux-pull plot.") var truth: String?
        @Option(help: "Sources of a sampling run with trace and corner plots (the first ones in catalog order).") var maxSources = 6
        @Option(help: "Exposures with mosaics (the first ones in the pixel store).") var maxExposures = 8
        @Option(help: "Stretch of the data and model pictures: asinh or zscale.") var stretch: SceneMosaic.Stretching = .asinh

        func run() throws {
            try failing {
                var options = RunReport.Options(truthCatalog: truth)
                options.maxSources = maxSources
                options.maxExposures = maxExposures
                options.stretch = stretch
                let summary = try RunReport.write(runDirectory: directory, options: options)
                print(ReportHook.line(summary))
            }
        }
    }
}

extension SceneMosaic.Stretching: ExpressibleByArgument {}

/// The report written at the end of `demo`, `postprocess`, `tabulate`, `infer` and `clusters compare`
/// (on rank 0): a failure is one warning line, never an error, because the run's results are
/// already safe on disk.
enum ReportHook {
    static func write(_ directory: String, truth: String? = nil) {
        do {
            print(line(try RunReport.write(runDirectory: directory, options: RunReport.Options(truthCatalog: truth))))
        } catch {
            FileHandle.standardError.write(Data("tessera: warning: no report for \(directory): \(error) (the run's results are unaffected; retry with `tessera report`)\n".utf8))
        }
        fflush(nil)
    }

    static func line(_ s: RunReport.Summary) -> String {
        String(format: "report: %@ (%d pictures%@, built in %.2f s)", s.path, s.pictures,
               s.linkedFiles.isEmpty ? "" : ", \(s.linkedFiles.count) linked in report/", s.seconds)
    }
}
