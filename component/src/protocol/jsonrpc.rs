//! JSON-RPC 2.0 framing: one message in, classified; error and result envelopes out.

use serde_json::{json, Map, Value};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
// The original package's codes, kept for compatibility (SPEC section 6).
pub const UNAUTHENTICATED: i64 = -32001;
pub const FORBIDDEN: i64 = -32002;
pub const OUT_OF_SCOPE: i64 = -32003;
/// Too many requests for this key or tool; `data.retryAfter` says when to try again.
pub const RATE_LIMITED: i64 = -32005;
// 2026-07-28's own codes.
pub const HEADER_MISMATCH: i64 = -32020;
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// What one inbound message turned out to be.
pub enum Inbound {
    Request {
        id: Value,
        method: String,
        params: Map<String, Value>,
    },
    Notification {
        method: String,
    },
    /// A response to a request we never send; accepted and dropped.
    ClientResponse,
    Invalid(RpcError),
}

#[derive(Debug, Clone)]
pub struct RpcError {
    pub id: Value,
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(id: Value, code: i64, message: impl Into<String>) -> Self {
        RpcError { id, code, message: message.into(), data: None }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub fn to_json(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(data) = &self.data {
            error["data"] = data.clone();
        }
        json!({"jsonrpc": "2.0", "id": self.id, "error": error})
    }
}

/// `{"id":…,"jsonrpc":"2.0","result":…}` around a result that is already JSON text (keys in
/// the order serde_json would sort them).
pub fn result_text(id: &Value, result: &str) -> String {
    format!("{{\"id\":{id},\"jsonrpc\":\"2.0\",\"result\":{result}}}")
}

/// Classify one message. Batches are refused: every revision since 2025-06-18 carries
/// exactly one message per POST, and STDIO one per line.
pub fn parse(text: &str) -> Inbound {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return Inbound::Invalid(RpcError::new(Value::Null, PARSE_ERROR, "Parse error: the body is not valid JSON"))
        }
    };
    let invalid =
        |id: Value, why: &str| Inbound::Invalid(RpcError::new(id, INVALID_REQUEST, format!("Invalid Request: {why}")));
    let mut obj = match value {
        Value::Object(obj) => obj,
        Value::Array(_) => return invalid(Value::Null, "batches are not supported; send one message"),
        _ => return invalid(Value::Null, "a message must be a JSON object"),
    };
    // Echo the id in errors only when it is a valid one.
    let id = match obj.get("id") {
        Some(id @ Value::String(_)) => Some(id.clone()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::Number(n.clone())),
        Some(Value::Null) => return invalid(Value::Null, "id must not be null"),
        Some(_) => return invalid(Value::Null, "id must be a string or an integer"),
        None => None,
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(id.unwrap_or(Value::Null), "jsonrpc must be \"2.0\"");
    }
    let method = match obj.get("method") {
        Some(Value::String(m)) => m.clone(),
        Some(_) => return invalid(id.unwrap_or(Value::Null), "method must be a string"),
        None if id.is_some() && (obj.contains_key("result") || obj.contains_key("error")) => {
            return Inbound::ClientResponse
        }
        None => return invalid(id.unwrap_or(Value::Null), "method is missing"),
    };
    // Taken out of the message rather than copied: a tool's arguments may be long.
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => {
            let err =
                RpcError::new(id.unwrap_or(Value::Null), INVALID_PARAMS, "Invalid params: params must be an object");
            return Inbound::Invalid(err);
        }
    };
    match id {
        Some(id) => Inbound::Request { id, method, params },
        None => Inbound::Notification { method },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> (i64, Value) {
        match parse(text) {
            Inbound::Invalid(e) => (e.code, e.id),
            _ => panic!("expected an error for {text}"),
        }
    }

    #[test]
    fn classifies_messages() {
        assert!(matches!(parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#), Inbound::Request { .. }));
        assert!(matches!(
            parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Inbound::Notification { .. }
        ));
        assert!(matches!(parse(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#), Inbound::ClientResponse));
    }

    #[test]
    fn refuses_malformed_envelopes() {
        assert_eq!(error_of("{nope").0, PARSE_ERROR);
        assert_eq!(error_of("[]").0, INVALID_REQUEST);
        assert_eq!(error_of(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#), (INVALID_REQUEST, Value::Null));
        assert_eq!(error_of(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#).0, INVALID_REQUEST);
        assert_eq!(error_of(r#"{"jsonrpc":"1.0","id":7,"method":"ping"}"#), (INVALID_REQUEST, json!(7)));
        assert_eq!(error_of(r#"{"jsonrpc":"2.0","id":7,"method":"x","params":[1]}"#), (INVALID_PARAMS, json!(7)));
    }
}
