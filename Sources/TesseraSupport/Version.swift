/// Tessera's own version, recorded in every run's `metadata.json` and printed by `tessera --version`.
public enum TesseraVersion {
    public static let string = "0.1.0"
}
