//! The MCP revisions this engine speaks, and the negotiation rule for `initialize`.

/// Handshake revisions, newest first.
pub const HANDSHAKE: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

pub const LATEST: &str = HANDSHAKE[0];

/// The client's revision when we speak it, otherwise our latest (the client then decides
/// whether it can continue).
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested.and_then(|r| HANDSHAKE.iter().find(|v| **v == r).copied()).unwrap_or(LATEST)
}

pub fn is_supported(version: &str) -> bool {
    HANDSHAKE.contains(&version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_known_revisions_and_offers_the_latest_otherwise() {
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(negotiate(Some("1999-01-01")), LATEST);
        assert_eq!(negotiate(None), LATEST);
    }
}
