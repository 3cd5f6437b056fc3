//! `tools/list` and `tools/call`: the effects they ask of the host and the replies they shape.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::jsonrpc::{self, RpcError};
use super::{Output, Pending, Principal};
use crate::derive::{Catalogue, Gate, Tool};
use crate::plan;
use crate::schema::validate::validate;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum Work {
    ListTools { offset: usize },
    CallTool {
        tool: String,
        arguments: Value,
        /// Why the arguments are invalid: said only once the caller has passed the gate, so
        /// a tool's schema is never described to someone who may not use it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<String>,
    },
}

pub(crate) fn begin(
    cat: &Catalogue,
    id: Value,
    method: &str,
    target: Option<String>,
    params: Map<String, Value>,
    principal: Principal,
) -> Output {
    let pending = |work| Pending { id: id.clone(), method: method.to_string(), target: target.clone(), principal: principal.clone(), work };
    if method == "tools/list" {
        let offset = match params.get("cursor") {
            None | Some(Value::Null) => 0,
            Some(Value::String(c)) => match decode_cursor(c) {
                Some(o) => o,
                None => return invalid_params(method, target.clone(), id.clone(), "Invalid params: unknown cursor"),
            },
            Some(_) => return invalid_params(method, target.clone(), id.clone(), "Invalid params: cursor must be a string"),
        };
        let gates = distinct_gates(cat.tools.iter());
        if gates.is_empty() {
            return finish(cat, pending(Work::ListTools { offset }), Vec::new());
        }
        let checks: Vec<Value> = gates.iter().map(Gate::to_json).collect();
        return Output::Effects { effects: vec![json!({"kind": "permissions", "checks": checks})], state: pending(Work::ListTools { offset }) };
    }

    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return invalid_params(method, target.clone(), id.clone(), "Invalid params: name (the tool's name) is required");
    };
    let Some(tool) = cat.tool(name) else {
        let e = RpcError::new(id.clone(), jsonrpc::INVALID_PARAMS, format!("Invalid params: unknown tool '{name}'"))
            .with_data(json!({"name": name}));
        return Output::error(method, target.clone(), e);
    };
    if !principal.may_use(&[&tool.spec.name, &tool.spec.alias]) {
        let e = RpcError::new(id.clone(), jsonrpc::OUT_OF_SCOPE, "out_of_scope: tool not in this key's allowlist")
            .with_data(json!({"target": tool.spec.name}));
        return Output::error(method, target.clone(), e);
    }
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => return invalid_params(method, target.clone(), id.clone(), "Invalid params: arguments must be an object"),
    };
    let authorize = json!({"kind": "authorize", "checks": [tool.spec.gate.to_json()]});
    let (effects, invalid) = match validate(&tool.spec.input_schema, &arguments, &cat.patterns) {
        Ok(()) => (vec![authorize, plan::effect(cat, tool, &arguments)], None),
        Err(problem) => (vec![authorize], Some(format!("Invalid arguments: {problem}"))),
    };
    Output::Effects { effects, state: pending(Work::CallTool { tool: tool.spec.name.clone(), arguments, invalid }) }
}

pub(crate) fn finish(cat: &Catalogue, pending: Pending, results: Vec<&RawValue>) -> Output {
    let Pending { id, method, target, principal, work } = pending;
    // Gate results are small: parsed. The work's result stays raw for `plan::shape`.
    let parsed = |i: usize| results.get(i).and_then(|r| serde_json::from_str::<Value>(r.get()).ok()).unwrap_or(Value::Null);
    match work {
        Work::ListTools { offset } => {
            let allowed = match results.first() {
                None => Vec::new(),
                Some(_) => match parsed(0).get("ok").and_then(Value::as_array) {
                    Some(a) => a.iter().map(|v| v.as_bool() == Some(true)).collect(),
                    None => return host_error(&id, &method, target, &parsed(0)),
                },
            };
            let gates = distinct_gates(cat.tools.iter());
            let passed: HashMap<&Gate, bool> = gates.iter().zip(allowed.iter().copied().chain(std::iter::repeat(false))).collect();
            let visible: Vec<&Tool> = cat
                .tools
                .iter()
                .filter(|t| passed.get(&t.spec.gate) == Some(&true))
                .filter(|t| principal.may_use(&[&t.spec.name, &t.spec.alias]))
                .collect();
            let size = cat.settings.page_size.max(1);
            let page: Vec<Value> = visible.iter().skip(offset).take(size).map(|t| t.descriptor.clone()).collect();
            let mut result = json!({"tools": page});
            // The last page has no nextCursor at all: `null` breaks the TypeScript SDK.
            if offset + size < visible.len() {
                result["nextCursor"] = json!(encode_cursor(offset + size));
            }
            Output::reply(&id, &method, target, result)
        }
        Work::CallTool { tool, arguments, invalid } => {
            let Some(tool) = cat.tool(&tool) else {
                return host_error(&id, &method, target, &json!({"error": {"kind": "internal", "message": "tool vanished"}}));
            };
            let authorized = parsed(0);
            if let Some(err) = authorized.get("error") {
                if err.get("kind").and_then(Value::as_str) == Some("forbidden") {
                    let e = RpcError::new(id.clone(), jsonrpc::FORBIDDEN, "forbidden: your Django permissions do not allow this tool")
                        .with_data(json!({"target": tool.spec.name}));
                    return Output::error(&method, target, e);
                }
                return host_error(&id, &method, target, &authorized);
            }
            if let Some(problem) = invalid {
                return finished_call(&id, &method, target, tool_error(problem), "handler_error");
            }
            let outcome = results.get(1).map(|r| r.get()).unwrap_or("null");
            let (done, audit_outcome) = plan::shape(cat, tool, &arguments, outcome);
            finished_call(&id, &method, target, done, audit_outcome)
        }
    }
}

/// A `tools/call` result as JSON text, and the message of a failed one (for the audit line).
pub(crate) struct ToolResult {
    text: String,
    error: Option<String>,
}

pub(crate) fn tool_error(message: String) -> ToolResult {
    let text = json!({"content": [{"type": "text", "text": message}], "isError": true}).to_string();
    ToolResult { text, error: Some(message) }
}

/// `structured` (JSON text) as `structuredContent` and, as the spec asks, as a text block.
pub(crate) fn tool_success(structured: &str) -> ToolResult {
    let quoted = serde_json::to_string(structured).expect("strings serialise");
    let text = format!("{{\"content\":[{{\"text\":{quoted},\"type\":\"text\"}}],\"isError\":false,\"structuredContent\":{structured}}}");
    ToolResult { text, error: None }
}

fn finished_call(id: &Value, method: &str, target: Option<String>, result: ToolResult, outcome: &'static str) -> Output {
    let mut out = Output::reply_text(id, method, target, &result.text);
    if let Output::Done { audit, .. } = &mut out {
        audit.outcome = outcome;
        if outcome != "allow" {
            audit.error_message = result.error;
        }
    }
    out
}

fn invalid_params(method: &str, target: Option<String>, id: Value, message: &str) -> Output {
    Output::error(method, target, RpcError::new(id, jsonrpc::INVALID_PARAMS, message))
}

/// An effect failed in a way the request cannot recover from; the host has logged why.
fn host_error(id: &Value, method: &str, target: Option<String>, result: &Value) -> Output {
    let message = result.pointer("/error/message").and_then(Value::as_str).unwrap_or("Internal error");
    Output::error(method, target, RpcError::new(id.clone(), jsonrpc::INTERNAL_ERROR, format!("Internal error: {message}")))
}

/// Each gate once, in the order tools first use it: the order of the permissions effect.
fn distinct_gates<'a>(tools: impl Iterator<Item = &'a Tool>) -> Vec<Gate> {
    let mut seen = HashSet::new();
    tools.filter(|t| seen.insert(&t.spec.gate)).map(|t| t.spec.gate.clone()).collect()
}

fn encode_cursor(offset: usize) -> String {
    format!("o{offset}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    cursor.strip_prefix('o')?.parse().ok()
}
