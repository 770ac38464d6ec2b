import Foundation
// moto on loopback and `blocking` live where `sortie dev` can use them too; tests see them through here.
@_exported import LocalAWS

/// A name no parallel test uses.
public func unique(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString.prefix(13).lowercased())"
}
