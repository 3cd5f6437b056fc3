//! The MCP revisions this engine speaks, and how one request tells which it is speaking.
//!
//! Handshake revisions negotiate once, in `initialize`; the stateless revision (2026-07-28)
//! carries its version and the client's capabilities in every request's `_meta`, repeated in
//! HTTP headers. Both are served side by side: each request is judged on its own.

use serde_json::{Map, Value};

use super::jsonrpc::{self, RpcError};

/// Handshake revisions, newest first.
pub const HANDSHAKE: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The stateless revision: no `initialize`, no session, `server/discover`.
pub const STATELESS: &str = "2026-07-28";

/// Every revision, newest first (`server/discover`'s `supportedVersions`).
pub const ALL: [&str; 5] = [STATELESS, HANDSHAKE[0], HANDSHAKE[1], HANDSHAKE[2], HANDSHAKE[3]];

pub const LATEST_HANDSHAKE: &str = HANDSHAKE[0];

pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// The client's revision when we speak it, otherwise our latest handshake revision (the
/// client then decides whether it can continue).
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested.and_then(|r| HANDSHAKE.iter().find(|v| **v == r).copied()).unwrap_or(LATEST_HANDSHAKE)
}

/// The HTTP headers a 2026-07-28 request repeats from its body (absent on STDIO).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Headers {
    #[serde(default, rename = "mcp-protocol-version")]
    pub protocol_version: Option<String>,
    #[serde(default, rename = "mcp-method")]
    pub method: Option<String>,
    #[serde(default, rename = "mcp-name")]
    pub name: Option<String>,
}

/// What a stateless request declared about itself in `_meta`.
#[derive(Debug, Clone, Default)]
pub struct Stateless {
    pub client_capabilities: Map<String, Value>,
    pub log_level: Option<String>,
}

/// Which revision one request speaks.
pub enum Era {
    Handshake,
    Stateless(Stateless),
}

/// Judge one request. `http` says whether `headers` were there to be checked. An error
/// here is answered with HTTP 400, as 2026-07-28 requires.
pub fn classify(
    id: &Value,
    method: &str,
    params: &Map<String, Value>,
    headers: &Headers,
    http: bool,
) -> Result<Era, RpcError> {
    let meta = params.get("_meta").and_then(Value::as_object);
    let meta_version = meta.and_then(|m| m.get(META_VERSION)).and_then(Value::as_str);
    let header_version = headers.protocol_version.as_deref();
    let stateless = method == "server/discover"
        || header_version == Some(STATELESS)
        || meta_version.is_some_and(|v| !HANDSHAKE.contains(&v));
    if !stateless {
        // `initialize` negotiates the version; the header only applies after it.
        if let Some(v) = header_version.filter(|v| method != "initialize" && !HANDSHAKE.contains(v)) {
            return Err(RpcError::new(
                id.clone(),
                jsonrpc::INVALID_REQUEST,
                format!(
                    "Invalid Request: unsupported MCP-Protocol-Version {}; supported: {}",
                    clipped(v),
                    ALL.join(", ")
                ),
            ));
        }
        return Ok(Era::Handshake);
    }
    let invalid = |why: &str| RpcError::new(id.clone(), jsonrpc::INVALID_PARAMS, format!("Invalid params: {why}"));
    let Some(meta) = meta else {
        return Err(invalid("_meta is required (with io.modelcontextprotocol/protocolVersion and clientCapabilities)"));
    };
    let Some(version) = meta_version else {
        return Err(invalid("_meta[\"io.modelcontextprotocol/protocolVersion\"] is required"));
    };
    let Some(client_capabilities) = meta.get(META_CLIENT_CAPABILITIES).and_then(Value::as_object) else {
        return Err(invalid("_meta[\"io.modelcontextprotocol/clientCapabilities\"] must be an object"));
    };
    if http {
        check_headers(id, method, params, headers, version)?;
    }
    if version != STATELESS {
        return Err(RpcError::new(
            id.clone(),
            jsonrpc::UNSUPPORTED_VERSION,
            format!("Unsupported protocol version {}", clipped(version)),
        )
        .with_data(
            serde_json::json!({"supported": ALL, "requested": version.chars().take(CLIP).collect::<String>()}),
        ));
    }
    let log_level = match meta.get(META_LOG_LEVEL) {
        None | Some(Value::Null) => None,
        Some(Value::String(level)) if LEVELS.contains(&level.as_str()) => Some(level.clone()),
        Some(_) => return Err(invalid(&format!("_meta[\"{META_LOG_LEVEL}\"] must be one of {}", LEVELS.join(", ")))),
    };
    Ok(Era::Stateless(Stateless { client_capabilities: client_capabilities.clone(), log_level }))
}

/// `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` must say what the body says.
fn check_headers(
    id: &Value,
    method: &str,
    params: &Map<String, Value>,
    headers: &Headers,
    version: &str,
) -> Result<(), RpcError> {
    let mismatch =
        |why: String| Err(RpcError::new(id.clone(), jsonrpc::HEADER_MISMATCH, format!("Header mismatch: {why}")));
    if headers.protocol_version.as_deref() != Some(version) {
        return mismatch(format!(
            "MCP-Protocol-Version {} does not match _meta's {version:?}",
            shown(&headers.protocol_version)
        ));
    }
    if headers.method.as_deref().map(decode_header) != Some(Some(method.to_string())) {
        return mismatch(format!("Mcp-Method {} does not match the method {method:?}", shown(&headers.method)));
    }
    let named = match method {
        "tools/call" | "prompts/get" => params.get("name"),
        "resources/read" => params.get("uri"),
        _ => None,
    };
    if let Some(name) = named.and_then(Value::as_str) {
        if headers.name.as_deref().map(decode_header) != Some(Some(name.to_string())) {
            return mismatch(format!("Mcp-Name {} does not match {name:?}", shown(&headers.name)));
        }
    }
    Ok(())
}

fn shown(header: &Option<String>) -> String {
    header.as_ref().map_or_else(|| "(missing)".to_string(), |v| clipped(v))
}

/// How much of a client's value an error message repeats: enough to recognise it, never
/// a 100 KB header echoed back.
const CLIP: usize = 64;

fn clipped(value: &str) -> String {
    if value.chars().count() <= CLIP {
        format!("{value:?}")
    } else {
        format!("{:?}…", value.chars().take(CLIP).collect::<String>())
    }
}

/// A header value as sent: plain, or the `=?base64?…?=` form for values HTTP cannot carry.
fn decode_header(value: &str) -> Option<String> {
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        Some(encoded) => String::from_utf8(base64_decode(encoded)?).ok(),
        None => Some(value.to_string()),
    }
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Log levels (RFC 5424 names, as MCP uses them), least severe first.
pub const LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/// The levels a request at `level` receives.
pub fn levels_from(level: &str) -> Vec<&'static str> {
    LEVELS.iter().skip_while(|l| **l != level).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn echoes_known_revisions_and_offers_the_latest_otherwise() {
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(negotiate(Some("1999-01-01")), LATEST_HANDSHAKE);
        assert_eq!(negotiate(None), LATEST_HANDSHAKE);
    }

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn headers(version: &str, method: &str, name: Option<&str>) -> Headers {
        Headers { protocol_version: Some(version.into()), method: Some(method.into()), name: name.map(Into::into) }
    }

    fn meta(version: &str) -> Value {
        json!({META_VERSION: version, META_CLIENT_CAPABILITIES: {}})
    }

    #[test]
    fn stateless_requests_are_judged_in_the_spec_order() {
        let id = json!(1);
        let code = |r: Result<Era, RpcError>| r.err().map(|e| e.code);
        let h = headers(STATELESS, "server/discover", None);
        assert_eq!(code(classify(&id, "server/discover", &params(json!({})), &h, true)), Some(jsonrpc::INVALID_PARAMS));
        let ok = params(json!({"_meta": meta(STATELESS)}));
        assert!(matches!(classify(&id, "server/discover", &ok, &h, true), Ok(Era::Stateless(_))));
        // A header that disagrees with _meta is a mismatch before the version is judged.
        let v999 = params(json!({"_meta": meta("v999")}));
        assert_eq!(code(classify(&id, "server/discover", &v999, &h, true)), Some(jsonrpc::HEADER_MISMATCH));
        let h999 = headers("v999", "server/discover", None);
        let e = classify(&id, "server/discover", &v999, &h999, true).err().unwrap();
        assert_eq!((e.code, e.data.unwrap()["requested"].clone()), (jsonrpc::UNSUPPORTED_VERSION, json!("v999")));
        // Mcp-Name must name the tool, plain or base64-encoded.
        let call = params(json!({"_meta": meta(STATELESS), "name": "é tool"}));
        let wrong = headers(STATELESS, "tools/call", Some("other"));
        assert_eq!(code(classify(&id, "tools/call", &call, &wrong, true)), Some(jsonrpc::HEADER_MISMATCH));
        let encoded = headers(STATELESS, "tools/call", Some("=?base64?w6kgdG9vbA==?="));
        assert!(classify(&id, "tools/call", &call, &encoded, true).is_ok());
        // STDIO has no headers to check.
        assert!(classify(&id, "tools/call", &call, &Headers::default(), false).is_ok());
    }

    #[test]
    fn handshake_requests_only_have_their_header_checked() {
        let id = json!(1);
        let none = Headers::default();
        assert!(matches!(classify(&id, "tools/list", &Map::new(), &none, true), Ok(Era::Handshake)));
        let bad = Headers { protocol_version: Some("1999-01-01".into()), ..Headers::default() };
        assert_eq!(
            classify(&id, "tools/list", &Map::new(), &bad, true).err().map(|e| e.code),
            Some(jsonrpc::INVALID_REQUEST)
        );
    }

    #[test]
    fn log_levels_run_from_the_requested_one_up() {
        assert_eq!(levels_from("critical"), ["critical", "alert", "emergency"]);
        assert_eq!(levels_from("debug").len(), 8);
    }
}
