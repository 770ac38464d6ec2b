import Foundation

/// The AWS Price List's answers for EC2 (GetProducts, format `aws_v1`): each entry a JSON
/// document in a string, `{"product": {"attributes": …}, "terms": {"OnDemand": {<offer>: {"priceDimensions":
/// {<rate>: {"unit": "Hrs", "pricePerUnit": {"USD": "0.0104000000"}}}}}, "Reserved": …}}`.
public enum PriceList {
    /// The one hourly on-demand US dollar price the entries give; unknown when they give none,
    /// or disagree (the filters did not narrow the products to one price), or are not such documents.
    public static func onDemandHourlyUSD(_ entries: [String], what: String) -> Price {
        var prices: Set<Double> = []
        for entry in entries {
            guard let document = try? JSONSerialization.jsonObject(with: Data(entry.utf8)) as? [String: Any] else {
                return .unknown("the Price List answered an entry that is not a JSON document for \(what)")
            }
            let offers = (document["terms"] as? [String: Any])?["OnDemand"] as? [String: Any] ?? [:]
            for case let offer as [String: Any] in offers.values {
                for case let dimension as [String: Any] in (offer["priceDimensions"] as? [String: Any] ?? [:]).values {
                    guard dimension["unit"] as? String == "Hrs", let text = (dimension["pricePerUnit"] as? [String: Any])?["USD"] as? String else { continue }
                    guard let price = Double(text), price >= 0 else { return .unknown("the Price List's price '\(text)' for \(what) is not a number") }
                    prices.insert(price)
                }
            }
        }
        guard let price = prices.first else { return .unknown("the Price List has no on-demand hourly price for \(what)") }
        guard prices.count == 1 else {
            return .unknown("the Price List has \(prices.count) different on-demand prices for \(what): \(prices.sorted().map { String($0) }.joined(separator: ", "))")
        }
        return .usdPerHour(price)
    }
}
