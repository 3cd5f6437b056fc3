//! The JSON-RPC errors the protocol methods share, and the refusals a host gives without
//! stepping a request (`Refusal`): each worded here once.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{json, Value};

use super::jsonrpc::{self, RpcError};
use super::toolset;
use super::{Audit, Exchange, Output, Transport};
use crate::seam::AuditOutcome;

/// The host's `rate_limited` answer as the error a client can act on.
pub(crate) fn rate_limited(ex: &Exchange, err: &Value) -> RpcError {
    let retry_after = err.get("retry_after").and_then(Value::as_u64).unwrap_or(1);
    ex.fail(jsonrpc::RATE_LIMITED, rate_limit_message(retry_after)).with_data(json!({"retryAfter": retry_after}))
}

pub(crate) fn invalid_params(ex: &Exchange, message: &str) -> Output {
    Output::error(ex, ex.fail(jsonrpc::INVALID_PARAMS, message))
}

/// An effect failed in a way the request cannot recover from; the host has logged why.
pub(crate) fn host_error(ex: &Exchange, result: &Value) -> Output {
    let message = result.pointer("/error/message").and_then(Value::as_str).unwrap_or("Internal error");
    Output::error(ex, ex.fail(jsonrpc::INTERNAL_ERROR, format!("Internal error: {message}")))
}

pub(crate) fn not_found(ex: &Exchange, what: &str, name: &str) -> Output {
    let key = if what == "resource" { "uri" } else { "name" };
    let e = ex
        .fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: unknown {what} '{name}'"))
        .with_data(json!({ key: name }));
    Output::error(ex, e)
}

/// The key or the endpoint keeps `name` (a tool's with `what` "tool ") out of reach.
pub(crate) fn out_of_scope(ex: &Exchange, what: &str, name: &str, refusal: toolset::Refusal) -> Output {
    let (reason, by) = refusal.data();
    let e = ex
        .fail(jsonrpc::OUT_OF_SCOPE, format!("out_of_scope: {what}{}", refusal.words()))
        .with_data(json!({"target": name, "reason": reason, "by": by}));
    let mut out = Output::error(ex, e);
    if let Output::Done { needs_write, .. } = &mut out {
        *needs_write = (refusal.narrowed, refusal.by) == (toolset::Narrowed::ReadOnly, toolset::NarrowedBy::Key);
    }
    out
}

/// The caller's Django permissions refused `target` (a tool, or a resource by its URI).
pub(crate) fn forbidden(ex: &Exchange, message: &str, data: Value) -> Output {
    Output::error(ex, ex.fail(jsonrpc::FORBIDDEN, format!("forbidden: {message}")).with_data(data))
}

/// Why a host answers a message without stepping it through the catalogue: a transport's
/// check, the credential's rate limit, a message sent without a credential, or the engine's
/// own failure. The engine words each: the JSON-RPC error, the HTTP status, the audit line.
/// The host's mirror is `RefusalKind` in `django_mcp/seam.py`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Refusal {
    /// The body is over the transport's cap of `limit` bytes.
    BodyTooLarge { limit: u64 },
    /// A Content-Type that is not JSON.
    MediaType,
    /// The body (HTTP) or the line (STDIO) is not UTF-8.
    InvalidUtf8,
    /// A browser page's Origin the site does not trust.
    ForeignOrigin,
    /// An `Mcp-Session-Id` this server did not sign.
    UnknownSession,
    /// The key id or the client address failed its credential checks too often.
    CredentialFailuresLimited { retry_after: u64 },
    /// The credential does not hold; `tokens`: OAuth access tokens are accepted beside keys.
    InvalidCredential {
        status: CredentialStatus,
        #[serde(default)]
        tokens: bool,
    },
    /// The credential's user is inactive.
    InactiveUser,
    /// An OAuth token granting neither MCP scope.
    NoMcpScope,
    /// The credential's own rate limit.
    RateLimited { retry_after: u64 },
    /// No credential was sent: refused when the message is a request the engine answers only
    /// for a principal; any other message is admitted (`{"admit": true}`).
    NoCredential,
    /// The engine failed the request (it trapped); `correlation_id` finds the host's log line.
    Internal { correlation_id: String },
}

/// Why a credential does not hold, as the host's check found it.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    Malformed,
    Unknown,
    WrongSecret,
    Revoked,
    Expired,
    WrongAudience,
}

impl CredentialStatus {
    fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Malformed => "malformed",
            CredentialStatus::Unknown => "unknown",
            CredentialStatus::WrongSecret => "wrong_secret",
            CredentialStatus::Revoked => "revoked",
            CredentialStatus::Expired => "expired",
            CredentialStatus::WrongAudience => "wrong_audience",
        }
    }
}

/// The methods the engine answers without a principal (`inbound`); a request for any other
/// is refused `unauthenticated` when no credential was sent.
pub(crate) const OPEN_METHODS: [&str; 4] = ["initialize", "ping", "server/discover", "logging/setLevel"];

/// What a refusal reads of the message it refuses, as leniently as any JSON object with a
/// string `method`: the id to echo (a string or an integer), the method and target to audit.
#[derive(Debug, PartialEq)]
struct Peeked {
    id: Value,
    method: String,
    target: Option<String>,
}

impl Peeked {
    fn of(text: &str) -> Peeked {
        let unknown = Peeked { id: Value::Null, method: "<unknown>".to_string(), target: None };
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else { return unknown };
        let Some(Value::String(method)) = message.get("method") else { return unknown };
        let id = match message.get("id") {
            Some(id @ Value::String(_)) => id.clone(),
            Some(id @ Value::Number(n)) if n.is_i64() || n.is_u64() => id.clone(),
            _ => Value::Null,
        };
        let params = message.get("params").and_then(Value::as_object);
        let named = params.and_then(|p| p.get("name").or_else(|| p.get("uri")));
        Peeked { id, method: method.clone(), target: named.and_then(Value::as_str).map(str::to_string) }
    }

    fn needs_credential(&self) -> bool {
        !self.id.is_null() && !OPEN_METHODS.contains(&self.method.as_str())
    }
}

/// A refusal's reply, HTTP status and audit words.
struct Wording {
    code: i64,
    message: String,
    data: Option<Value>,
    http_status: u16,
    outcome: AuditOutcome,
    /// The audit line's `error_message`: fixed words, never what the client sent.
    reason: Cow<'static, str>,
}

impl Refusal {
    /// `read`: the host read the message it refuses (its id is echoed, its method audited).
    fn wording(&self, transport: Transport, read: bool) -> Wording {
        let word = |code, message: String, http_status, outcome, reason: &'static str| Wording {
            code,
            message,
            data: None,
            http_status,
            outcome,
            reason: Cow::Borrowed(reason),
        };
        let limited = |retry_after: u64, reason| Wording {
            data: Some(json!({"retryAfter": retry_after})),
            ..word(jsonrpc::RATE_LIMITED, rate_limit_message(retry_after), 429, AuditOutcome::RateLimited, reason)
        };
        use AuditOutcome::{Deny, HandlerError, TransportError, Unauthenticated};
        match self {
            Refusal::BodyTooLarge { limit } => word(
                jsonrpc::INVALID_REQUEST,
                format!("Request body exceeds {limit} bytes"),
                413,
                TransportError,
                "body too large",
            ),
            Refusal::MediaType => word(
                jsonrpc::INVALID_REQUEST,
                "Content-Type must be application/json".into(),
                415,
                TransportError,
                "media type",
            ),
            Refusal::InvalidUtf8 => {
                let what = if transport == Transport::Stdio { "line" } else { "body" };
                let message = format!("Parse error: the {what} is not valid UTF-8");
                word(jsonrpc::PARSE_ERROR, message, 400, TransportError, "invalid utf-8")
            }
            Refusal::ForeignOrigin => word(
                jsonrpc::INVALID_REQUEST,
                "Forbidden: Origin is not allowed".into(),
                403,
                TransportError,
                "foreign origin",
            ),
            Refusal::UnknownSession => word(
                jsonrpc::INVALID_REQUEST,
                "Session not found: initialize again".into(),
                404,
                TransportError,
                "unknown session",
            ),
            Refusal::CredentialFailuresLimited { retry_after } => limited(*retry_after, "credential failures limited"),
            Refusal::InvalidCredential { status, tokens } => {
                // STDIO names the key it was started with; HTTP what a client may send.
                let message = match (transport, tokens) {
                    (Transport::Stdio, _) => format!("Unauthorized: the key is {}", status.as_str().replace('_', " ")),
                    (Transport::Http, false) => "Unauthorized: send Authorization: Bearer <key_id>.<secret>".into(),
                    (Transport::Http, true) => {
                        "Unauthorized: send Authorization: Bearer <key_id>.<secret> or an OAuth access token".into()
                    }
                };
                Wording {
                    reason: Cow::Owned(format!("credential {}", status.as_str())),
                    ..word(jsonrpc::UNAUTHENTICATED, message, 401, Unauthenticated, "")
                }
            }
            // Refused before the message was read, no request was denied: a transport's refusal.
            Refusal::InactiveUser => word(
                jsonrpc::FORBIDDEN,
                "Forbidden: the user is inactive".into(),
                403,
                if read { Deny } else { TransportError },
                "inactive user",
            ),
            Refusal::NoMcpScope => word(
                jsonrpc::FORBIDDEN,
                "Forbidden: the token grants no MCP scope".into(),
                403,
                TransportError,
                "credential insufficient_scope",
            ),
            Refusal::RateLimited { retry_after } => limited(*retry_after, "rate_limited"),
            Refusal::NoCredential => {
                word(jsonrpc::UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE.into(), 401, Unauthenticated, "unauthenticated")
            }
            Refusal::Internal { correlation_id } => Wording {
                data: Some(json!({"correlation_id": correlation_id})),
                ..word(jsonrpc::INTERNAL_ERROR, "Internal error".into(), 200, HandlerError, "engine failure")
            },
        }
    }
}

/// What a client without a credential is told when it asks for something that needs one.
pub(crate) const UNAUTHENTICATED_MESSAGE: &str = "unauthenticated: send Authorization: Bearer <key>";

fn rate_limit_message(retry_after: u64) -> String {
    format!("Rate limit exceeded: retry after {retry_after} s")
}

/// The answer to a refusal: `message` is the text the host read, or `None` when it refused
/// before reading one (no id to echo, `<pre-dispatch>` in the audit line, no JSON-RPC code
/// there either: no request was answered). `NoCredential` admits a message it need not refuse.
pub(crate) fn refuse(refusal: &Refusal, transport: Transport, message: Option<&str>) -> Output {
    let peeked = message.map(Peeked::of);
    if matches!(refusal, Refusal::NoCredential) && !peeked.as_ref().is_some_and(Peeked::needs_credential) {
        return Output::Host(json!({"admit": true}).to_string());
    }
    let wording = refusal.wording(transport, peeked.is_some());
    let (id, method, target) = match peeked {
        Some(Peeked { id, method, target }) => (id, method, target),
        None => (Value::Null, "<pre-dispatch>".to_string(), None),
    };
    let mut error = RpcError::new(id, wording.code, wording.message);
    error.data = wording.data;
    let retry_after = error.data.as_ref().and_then(|d| d.get("retryAfter")).and_then(Value::as_u64);
    Output::Done {
        reply: Some(error.to_json().to_string()),
        http_status: wording.http_status,
        audit: Audit {
            method,
            target,
            outcome: wording.outcome,
            error_code: message.map(|_| wording.code),
            error_message: Some(wording.reason.into_owned()),
        },
        retry_after,
        needs_write: false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::catalogue_free_step;

    /// A refusal step's header and reply.
    fn refused(input: Value) -> (Value, Value) {
        let text = catalogue_free_step(&input.to_string()).expect("a refusal step").to_text();
        let (header, reply) = text.split_once('\n').expect("a reply");
        (serde_json::from_str(header).unwrap(), serde_json::from_str(reply).unwrap())
    }

    fn error(reply: &Value) -> (i64, &str) {
        (reply["error"]["code"].as_i64().unwrap(), reply["error"]["message"].as_str().unwrap())
    }

    #[test]
    fn each_transport_refusal_has_its_code_status_and_words() {
        let table = [
            (json!({"kind": "body_too_large", "limit": 65536}), -32600, "Request body exceeds 65536 bytes", 413),
            (json!({"kind": "media_type"}), -32600, "Content-Type must be application/json", 415),
            (json!({"kind": "invalid_utf8"}), -32700, "Parse error: the body is not valid UTF-8", 400),
            (json!({"kind": "foreign_origin"}), -32600, "Forbidden: Origin is not allowed", 403),
            (json!({"kind": "unknown_session"}), -32600, "Session not found: initialize again", 404),
            (json!({"kind": "inactive_user"}), -32002, "Forbidden: the user is inactive", 403),
            (json!({"kind": "no_mcp_scope"}), -32002, "Forbidden: the token grants no MCP scope", 403),
            (
                json!({"kind": "invalid_credential", "status": "revoked"}),
                -32001,
                "Unauthorized: send Authorization: Bearer <key_id>.<secret>",
                401,
            ),
            (
                json!({"kind": "invalid_credential", "status": "wrong_audience", "tokens": true}),
                -32001,
                "Unauthorized: send Authorization: Bearer <key_id>.<secret> or an OAuth access token",
                401,
            ),
        ];
        for (refusal, code, message, status) in table {
            let (header, reply) = refused(json!({"refuse": refusal, "context": {"transport": "http"}}));
            assert_eq!((error(&reply), &reply["id"]), ((code, message), &Value::Null), "{refusal}");
            assert_eq!(header["done"]["http_status"], status, "{refusal}");
            // Refused before the message was read: no request, no JSON-RPC code in the audit line.
            let audit = &header["done"]["audit"];
            assert_eq!((&audit["method"], &audit["error_code"]), (&json!("<pre-dispatch>"), &Value::Null));
        }
    }

    #[test]
    fn audit_lines_name_the_refusal_in_fixed_words() {
        let audit = |refusal: Value| {
            let (header, _) = refused(json!({"refuse": refusal}));
            (header["done"]["audit"]["outcome"].clone(), header["done"]["audit"]["error_message"].clone())
        };
        assert_eq!(
            audit(json!({"kind": "body_too_large", "limit": 1})),
            (json!("transport_error"), json!("body too large"))
        );
        assert_eq!(
            audit(json!({"kind": "invalid_credential", "status": "wrong_secret"})),
            (json!("unauthenticated"), json!("credential wrong_secret"))
        );
        assert_eq!(
            audit(json!({"kind": "credential_failures_limited", "retry_after": 9})),
            (json!("rate_limited"), json!("credential failures limited"))
        );
        assert_eq!(audit(json!({"kind": "no_mcp_scope"})).1, json!("credential insufficient_scope"));
    }

    #[test]
    fn a_refusal_of_a_message_read_echoes_its_id_and_audits_its_method() {
        let message = r#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"list_x"}}"#;
        let (header, reply) =
            refused(json!({"refuse": {"kind": "rate_limited", "retry_after": 3}, "message": message}));
        assert_eq!(
            reply,
            json!({"jsonrpc": "2.0", "id": "a", "error": {
                "code": -32005, "message": "Rate limit exceeded: retry after 3 s", "data": {"retryAfter": 3}}})
        );
        assert_eq!(
            header["done"],
            json!({"http_status": 429, "headers": {"Retry-After": "3"}, "audit": {
                "method": "tools/call", "target": "list_x", "outcome": "rate_limited",
                "error_code": -32005, "error_message": "rate_limited"}})
        );
        // What is not a request is read as far as it goes: no id, an unknown method.
        for junk in ["", "[[[", r#"{"id":true,"method":"ping"}"#, r#"{"id":1,"method":7}"#] {
            let (header, reply) =
                refused(json!({"refuse": {"kind": "rate_limited", "retry_after": 1}, "message": junk}));
            assert_eq!(reply["id"], Value::Null, "{junk}");
            let expected = if junk.contains("ping") { "ping" } else { "<unknown>" };
            assert_eq!(header["done"]["audit"]["method"], expected, "{junk}");
        }
    }

    #[test]
    fn stdio_refusals_name_the_line_and_the_key() {
        let line = r#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#;
        let stdio = json!({"transport": "stdio"});
        let (_, reply) = refused(json!({"refuse": {"kind": "invalid_utf8"}, "context": stdio}));
        assert_eq!(error(&reply), (-32700, "Parse error: the line is not valid UTF-8"));
        let (header, reply) = refused(json!({
            "refuse": {"kind": "invalid_credential", "status": "wrong_secret"}, "context": stdio, "message": line}));
        assert_eq!((error(&reply), &reply["id"]), ((-32001, "Unauthorized: the key is wrong secret"), &json!(4)));
        assert_eq!(header["done"]["audit"]["error_message"], "credential wrong_secret");
        let (header, _) = refused(json!({"refuse": {"kind": "inactive_user"}, "context": stdio, "message": line}));
        assert_eq!(header["done"]["audit"]["outcome"], "deny");
    }

    #[test]
    fn without_a_credential_only_requests_for_open_methods_are_admitted() {
        let anonymous = |message: &str| {
            let input = json!({"refuse": {"kind": "no_credential"}, "message": message});
            catalogue_free_step(&input.to_string()).unwrap().to_text()
        };
        for open in super::OPEN_METHODS {
            let text = anonymous(&json!({"jsonrpc": "2.0", "id": 1, "method": open}).to_string());
            assert_eq!(text, r#"{"admit":true}"#);
        }
        // Notifications, responses and malformed messages are admitted: the engine answers them alike.
        for admitted in [r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, "{nope", r#"{"id":1}"#] {
            assert_eq!(anonymous(admitted), r#"{"admit":true}"#, "{admitted}");
        }
        for method in ["tools/list", "tools/call", "debug/spin", "no/such-method"] {
            let message = json!({"jsonrpc": "2.0", "id": 9, "method": method, "params": {"name": "t"}});
            let (header, reply) = refused(json!({"refuse": {"kind": "no_credential"}, "message": message.to_string()}));
            assert_eq!(
                reply,
                json!({"jsonrpc": "2.0", "id": 9, "error": {
                    "code": -32001, "message": "unauthenticated: send Authorization: Bearer <key>"}})
            );
            assert_eq!(header["done"]["http_status"], 401);
            assert_eq!(header["done"]["audit"]["target"], "t");
        }
    }

    #[test]
    fn the_engines_own_failure_carries_the_correlation_id() {
        let message = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call"}"#;
        let (header, reply) =
            refused(json!({"refuse": {"kind": "internal", "correlation_id": "c1"}, "message": message}));
        assert_eq!(
            reply.to_string(),
            r#"{"error":{"code":-32603,"data":{"correlation_id":"c1"},"message":"Internal error"},"id":2,"jsonrpc":"2.0"}"#
        );
        assert_eq!(header["done"]["audit"]["error_message"], "engine failure");
        assert_eq!(header["done"]["http_status"], 200);
    }

    #[test]
    fn only_the_keys_read_only_switch_asks_for_a_credential_that_may_write() {
        use super::super::toolset::{Narrowed, NarrowedBy, Refusal};
        use super::super::Exchange;

        let ex = Exchange { id: json!(1), method: "tools/call".into(), target: None, stateless: false };
        for (narrowed, by) in [
            (Narrowed::ReadOnly, NarrowedBy::Key),
            (Narrowed::Unlisted, NarrowedBy::Key),
            (Narrowed::ReadOnly, NarrowedBy::Endpoint),
            (Narrowed::Unlisted, NarrowedBy::Endpoint),
        ] {
            let text = super::out_of_scope(&ex, "tool ", "t", Refusal { narrowed, by }).to_text();
            let header: Value = serde_json::from_str(text.split_once('\n').unwrap().0).unwrap();
            let expected = (narrowed, by) == (Narrowed::ReadOnly, NarrowedBy::Key);
            assert_eq!(header["done"].get("needs_write") == Some(&json!(true)), expected, "{narrowed:?} {by:?}");
        }
    }

    #[test]
    fn an_unknown_refusal_is_not_a_catalogue_free_step() {
        assert!(catalogue_free_step(r#"{"refuse":{"kind":"melted"}}"#).is_none());
        assert!(catalogue_free_step(r#"{"tool_sources":true}"#).is_none());
    }
}
