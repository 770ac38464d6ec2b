/// Sortie's one release number: every bootstrap's `--version`, `sortie-runner --version`,
/// `sortie --version` and the chunk worker image's default tag. A module of its own so the
/// tools can print it without linking the Lambda runtime.
public enum SortieRelease {
    public static let version = "0.1.0"
}
