//! Multi round-trip requests (2026-07-28, SEP-2322): a custom handler may answer "input
//! required" — questions for the client (elicitation, sampling, roots) and an opaque
//! `requestState` — and the client calls again with `inputResponses` and that state. Nothing
//! is kept between the rounds: the host signs the state and verifies it when it returns.

use serde_json::{json, Map, Value};

use super::jsonrpc;
use super::revisions::Stateless;
use super::{Exchange, Output};
use crate::derive::Catalogue;
use crate::seam::{ClientInput, HostErrorKind};

/// The effect fields a handler needs to continue a multi-round request: the client's
/// answers, the state it echoes, and what the client can be asked (stateless requests only).
pub(crate) fn client_input(
    ex: &Exchange,
    params: &Map<String, Value>,
    stateless: Option<&Stateless>,
) -> Result<ClientInput, Output> {
    let invalid =
        |why: &str| Err(Output::error(ex, ex.fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: {why}"))));
    let responses = match params.get("inputResponses") {
        None => None,
        Some(Value::Object(answers)) if answers.values().all(Value::is_object) => Some(Value::Object(answers.clone())),
        Some(_) => return invalid("inputResponses must be an object whose values are the client's result objects"),
    };
    let state = match params.get("requestState") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return invalid("requestState must be the string the server sent"),
    };
    Ok(ClientInput {
        input_responses: responses,
        request_state: state,
        client_capabilities: stateless.map(|s| Value::Object(s.client_capabilities.clone())),
    })
}

/// The reply when the host's answer asks the client for input; `None` when it does not.
/// Handshake clients cannot be asked (their revision sends such questions as requests on a
/// session's stream, and there is no session): they get `unsupported`.
pub(crate) fn input_required(
    cat: &Catalogue,
    ex: &Exchange,
    answer: &Value,
    unsupported: impl FnOnce() -> Output,
) -> Option<Output> {
    let asked = answer.get("ok")?.get("input_required")?;
    if !ex.stateless {
        return Some(unsupported());
    }
    let mut result = json!({"inputRequests": asked.get("inputRequests").cloned().unwrap_or(json!({}))});
    if let Some(state) = asked.get("requestState").and_then(Value::as_str) {
        result["requestState"] = json!(state);
    }
    Some(Output::reply_typed(cat, ex, &result.to_string(), "input_required"))
}

/// A host error of kind `invalid` (a tampered `requestState`, answers that do not fit) is
/// the client's mistake: invalid params.
pub(crate) fn invalid_input(ex: &Exchange, answer: &Value) -> Option<Output> {
    let err = answer.get("error")?;
    if HostErrorKind::of(err) != HostErrorKind::Invalid {
        return None;
    }
    let message = err.get("message").and_then(Value::as_str).unwrap_or("invalid input");
    Some(Output::error(ex, ex.fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: {message}"))))
}
