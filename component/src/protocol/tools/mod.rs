//! `tools/call`: the effects it asks of the host and the result it shapes (`tools/list` is
//! in `listing`).

mod plan;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::errors::{host_error, invalid_params, out_of_scope};
use super::gated::{authorize, refused};
use super::input;
use super::jsonrpc;
use super::revisions::Stateless;
use super::toolset::Item;
use super::{parsed_result, Exchange, Failure, Output, Pending, Principal, Work};
use crate::derive::{Catalogue, Operation, Readiness};
use crate::schema::validate::{validate, Violation};
use crate::seam::AuditOutcome;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case", from = "CallToolFields")]
pub(crate) enum ToolsWork {
    CallTool {
        tool: String,
        arguments: Value,
        /// Why the arguments are invalid: said only once the caller has passed the gate, so
        /// a tool's schema is never described to someone who may not use it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<Violation>,
    },
}

/// `ToolsWork::CallTool` read back from its state as a plain struct: an internally tagged
/// enum is read by first copying every field but the tag (the arguments) into a buffer.
#[derive(Deserialize)]
struct CallToolFields {
    #[serde(rename = "work")]
    _tag: CallToolTag,
    tool: String,
    arguments: Value,
    #[serde(default)]
    invalid: Option<Violation>,
}

/// The tag `ToolsWork` is written with (its only variant's).
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum CallToolTag {
    CallTool,
}

impl From<CallToolFields> for ToolsWork {
    fn from(f: CallToolFields) -> ToolsWork {
        ToolsWork::CallTool { tool: f.tool, arguments: f.arguments, invalid: f.invalid }
    }
}

pub(crate) fn begin(
    cat: &Catalogue,
    ex: Exchange,
    mut params: Map<String, Value>,
    principal: Principal,
    stateless: Option<&Stateless>,
    notify: Option<Value>,
) -> Output {
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return invalid_params(&ex, "Invalid params: name (the tool's name) is required");
    };
    let Some(tool) = cat.tool(name) else {
        let e = ex
            .fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: unknown tool '{name}'"))
            .with_data(json!({"name": name}));
        return Output::error(&ex, e);
    };
    if let Some(refusal) = principal.refusal(cat, &Item::tool(cat, tool)) {
        return out_of_scope(&ex, "tool ", &tool.spec.name, refusal);
    }
    match (&tool.readiness, tool.waits_for()) {
        (_, Some(admin)) => return Output::NeedForms(vec![admin]),
        (Readiness::Unavailable, _) => {
            let e = ex
                .fail(
                    jsonrpc::INVALID_PARAMS,
                    format!("Invalid params: tool '{name}' is unavailable: its admin form could not be built"),
                )
                .with_data(json!({"name": name}));
            return Output::error(&ex, e);
        }
        _ => {}
    }
    if let (Operation::Custom { client_capabilities }, Some(stateless)) = (&tool.spec.operation, stateless) {
        let missing: Map<String, Value> = client_capabilities
            .iter()
            .filter(|c| !stateless.client_capabilities.contains_key(c.as_str()))
            .map(|c| (c.clone(), json!({})))
            .collect();
        if !missing.is_empty() {
            let names: Vec<&String> = missing.keys().collect();
            let e = ex
                .fail(jsonrpc::MISSING_CLIENT_CAPABILITY, format!("Missing required client capability: {names:?}"))
                .with_data(json!({"requiredCapabilities": missing}));
            return Output::error(&ex, e);
        }
    }
    // Moved out, not copied: the arguments go on into the state, and nothing else reads them.
    let arguments = match params.remove("arguments") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(a @ Value::Object(_)) => a,
        Some(_) => return invalid_params(&ex, "Invalid params: arguments must be an object"),
    };
    let input = match tool.spec.operation {
        Operation::Custom { .. } => match input::client_input(&ex, &params, stateless) {
            Ok(input) => Some(input),
            Err(refusal) => return refusal,
        },
        _ => None,
    };
    let gate = authorize(cat, Some(&tool.spec.name), tool.gate_index);
    let schema = tool.validation_schema();
    let (effects, invalid) = match validate(&schema, &arguments, &cat.patterns) {
        Ok(()) => (vec![gate, plan::effect(cat, tool, &arguments, input).to_text()], None),
        Err(violation) => (vec![gate], Some(violation)),
    };
    let work = ToolsWork::CallTool { tool: tool.spec.name.clone(), arguments, invalid };
    Output::Effects { effects, state: Pending { exchange: ex, principal, work: Work::Tools(work) }, notify }
}

pub(crate) fn finish(cat: &Catalogue, ex: Exchange, work: ToolsWork, results: Vec<&RawValue>) -> Output {
    // Gate results are small: parsed. The work's result stays raw for `plan::shape`.
    let parsed = |i: usize| parsed_result(&results, i);
    match work {
        ToolsWork::CallTool { tool, arguments, invalid } => {
            let Some(tool) = cat.tool(&tool) else {
                return host_error(&ex, &json!({"error": {"kind": "internal", "message": "tool vanished"}}));
            };
            if let Some(out) = refused(&ex, &parsed(0), Some(&tool.spec.name)) {
                return out;
            }
            if let Some(violation) = invalid {
                let paths = if violation.path.is_empty() { Vec::new() } else { vec![violation.path.clone()] };
                let failure = Failure::naming("invalid_arguments", paths);
                return finished_call(
                    cat,
                    &ex,
                    tool_error(format!("Invalid arguments: {violation}"), failure),
                    AuditOutcome::HandlerError,
                );
            }
            let outcome = results.get(1).map(|r| r.get()).unwrap_or("null");
            if let Operation::Custom { .. } = tool.spec.operation {
                let answer = parsed(1);
                let unsupported = || {
                    let message =
                        "This tool needs answers from the client (MCP 2026-07-28 multi round-trip requests); \
                                   call it over that revision.";
                    finished_call(
                        cat,
                        &ex,
                        tool_error(message.to_string(), Failure::new("needs_client_input")),
                        AuditOutcome::HandlerError,
                    )
                };
                if let Some(out) =
                    input::input_required(cat, &ex, &answer, unsupported).or_else(|| input::invalid_input(&ex, &answer))
                {
                    return out;
                }
            }
            let (done, audit_outcome) = plan::shape(cat, tool, &arguments, outcome);
            finished_call(cat, &ex, done, audit_outcome)
        }
    }
}

/// A `tools/call` result as JSON text, and why a failed one failed (for the audit line).
pub(crate) struct ToolResult {
    text: String,
    failure: Option<Failure>,
}

/// `message` for the client; `failure` for the audit line.
pub(crate) fn tool_error(message: String, failure: Failure) -> ToolResult {
    let text = json!({"content": [{"type": "text", "text": message}], "isError": true}).to_string();
    ToolResult { text, failure: Some(failure) }
}

/// `structured` (JSON text) as `structuredContent` and, as the spec asks, as a text block,
/// followed by `links` (content items: `resource_link`s to the objects returned).
pub(crate) fn tool_success(structured: &str, links: &[Value]) -> ToolResult {
    structured_result(structured, links, None)
}

/// The same, marked `isError` because of `failure`: the tool ran but its answer is a failure.
pub(crate) fn tool_failure(structured: &str, failure: Failure) -> ToolResult {
    structured_result(structured, &[], Some(failure))
}

/// A result the host built whole (a custom tool's `{content, isError, structuredContent?}`).
pub(crate) fn tool_result_text(text: String, failure: Option<Failure>) -> ToolResult {
    ToolResult { text, failure }
}

fn structured_result(structured: &str, links: &[Value], failure: Option<Failure>) -> ToolResult {
    let quoted = serde_json::to_string(structured).expect("strings serialise");
    let extra: String = links.iter().map(|l| format!(",{l}")).collect();
    let failed = failure.is_some();
    let text = format!("{{\"content\":[{{\"text\":{quoted},\"type\":\"text\"}}{extra}],\"isError\":{failed},\"structuredContent\":{structured}}}");
    ToolResult { text, failure }
}

pub(crate) fn finished_call(cat: &Catalogue, ex: &Exchange, result: ToolResult, outcome: AuditOutcome) -> Output {
    let mut out = Output::reply_text(cat, ex, &result.text);
    if let Output::Done { audit, .. } = &mut out {
        audit.outcome = outcome;
        if outcome != AuditOutcome::Allow {
            audit.error_message = result.failure.map(|f| f.audit_message());
        }
    }
    out
}
