/// An hourly price, or why there is none: a cost is never guessed.
public enum Price: Sendable, Equatable {
    case usdPerHour(Double)
    /// Why no price was found (`no on-demand price for m9.huge in us-east-1`, an AWS error).
    case unknown(String)
}
