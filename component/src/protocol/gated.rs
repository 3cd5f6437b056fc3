//! What the methods gated like tools share: the effects asking the host about gates (each
//! check the text `Catalogue::gate_checks` rendered at load), the refusal when a gate fails,
//! the state a request waits in, and the host's answer to a read or a custom prompt.

use serde_json::{json, Value};

use super::errors::{forbidden, host_error, not_found, rate_limited};
use super::{input, jsonrpc, Exchange, Output, Pending, Principal, Work};
use crate::derive::Catalogue;
use crate::seam::{Effect, HostErrorKind};

/// Does the caller pass the gate at `place` in `Catalogue::gate_checks`? `tool` names the
/// tool whose rate limit the call counts against.
pub(crate) fn authorize(cat: &Catalogue, tool: Option<&str>, place: usize) -> String {
    Effect::Authorize { tool, checks: vec![&cat.gate_checks[place]] }.to_text()
}

/// Which of the gates at `places` does the caller pass?
pub(crate) fn permissions(cat: &Catalogue, places: impl IntoIterator<Item = usize>) -> String {
    Effect::Permissions { checks: places.into_iter().map(|g| &*cat.gate_checks[g]).collect() }.to_text()
}

/// The reply when the host refused the effect a request asked first: the gate of `tool`, or
/// of the item the request names (`Exchange::target`), or a `resources/list` page's objects.
pub(crate) fn refused(ex: &Exchange, answer: &Value, tool: Option<&str>) -> Option<Output> {
    let err = answer.get("error")?;
    Some(match HostErrorKind::of(err) {
        HostErrorKind::Forbidden => match tool {
            Some(tool) => forbidden(ex, "your Django permissions do not allow this tool", json!({"target": tool})),
            None => forbidden(ex, "your Django permissions do not allow this", json!({"target": ex.target})),
        },
        HostErrorKind::RateLimited => Output::error(ex, rate_limited(ex, err)),
        _ => host_error(ex, answer),
    })
}

/// Waiting for the host to answer `effects`; `work` is what the answers are for.
pub(crate) fn wait(ex: Exchange, principal: Principal, effects: Vec<String>, work: Work) -> Output {
    Output::Effects { effects, state: Pending { exchange: ex, principal, work }, notify: None }
}

/// What the host answered for: a resource read or a custom prompt, each worded as itself.
#[derive(Clone, Copy)]
pub(crate) enum Answered {
    Resource,
    Prompt,
}

/// The `ok` of the host's answer to a resource read or a custom prompt, or the reply when
/// there is none: questions for the client, or the host's error as the client's.
pub(crate) fn host_answer(cat: &Catalogue, ex: &Exchange, answer: &Value, what: Answered) -> Result<Value, Output> {
    let unsupported = || {
        let e = ex.fail(
            jsonrpc::INVALID_PARAMS,
            "Invalid params: this needs answers from the client, which only MCP 2026-07-28 can give",
        );
        Output::error(ex, e)
    };
    if let Some(out) = input::input_required(cat, ex, answer, unsupported).or_else(|| input::invalid_input(ex, answer))
    {
        return Err(out);
    }
    let Some(err) = answer.get("error") else {
        return Ok(answer.get("ok").cloned().unwrap_or(Value::Null));
    };
    let target = ex.target.clone().unwrap_or_default();
    Err(match (HostErrorKind::of(err), what) {
        (HostErrorKind::NotFound, Answered::Resource) => not_found(ex, "resource", &target),
        (HostErrorKind::NotFound, Answered::Prompt) => not_found(ex, "prompt", &target),
        (HostErrorKind::Forbidden, Answered::Resource) => {
            forbidden(ex, "your Django permissions do not allow this", json!({"uri": target}))
        }
        // As the prompt's gate words a refusal.
        (HostErrorKind::Forbidden, Answered::Prompt) => {
            forbidden(ex, "your Django permissions do not allow this", json!({"target": target}))
        }
        (HostErrorKind::TooLarge, Answered::Resource) => {
            let message = err.get("message").and_then(Value::as_str).unwrap_or("the file is too large");
            let e = ex
                .fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: {message}"))
                .with_data(json!({"uri": target}));
            Output::error(ex, e)
        }
        _ => host_error(ex, answer),
    })
}

/// A primary key the host answered, as the text of a URI or a completion value.
pub(crate) fn pk_text(pk: &Value) -> String {
    match pk {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
