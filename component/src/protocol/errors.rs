//! The JSON-RPC errors the protocol methods share: each built here once.

use serde_json::{json, Value};

use super::jsonrpc::{self, RpcError};
use super::toolset::Refusal;
use super::{Exchange, Output};

/// The host's `rate_limited` answer as the error a client can act on.
pub(crate) fn rate_limited(ex: &Exchange, err: &Value) -> RpcError {
    let retry_after = err.get("retry_after").and_then(Value::as_u64).unwrap_or(1);
    ex.fail(jsonrpc::RATE_LIMITED, format!("Rate limit exceeded: retry after {retry_after} s"))
        .with_data(json!({"retryAfter": retry_after}))
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
pub(crate) fn out_of_scope(ex: &Exchange, what: &str, name: &str, refusal: Refusal) -> Output {
    let (reason, by) = refusal.data();
    let e = ex
        .fail(jsonrpc::OUT_OF_SCOPE, format!("out_of_scope: {what}{}", refusal.words()))
        .with_data(json!({"target": name, "reason": reason, "by": by}));
    Output::error(ex, e)
}

/// The caller's Django permissions refused `target` (a tool, or a resource by its URI).
pub(crate) fn forbidden(ex: &Exchange, message: &str, data: Value) -> Output {
    Output::error(ex, ex.fail(jsonrpc::FORBIDDEN, format!("forbidden: {message}")).with_data(data))
}
