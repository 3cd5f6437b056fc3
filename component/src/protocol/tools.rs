//! `tools/list` and `tools/call`: the effects they ask of the host and the replies they shape.


use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::jsonrpc::{self, RpcError};
use super::input;
use super::revisions::Stateless;
use super::{Exchange, Output, Pending, Principal, Work};
use crate::derive::{Catalogue, Operation, Tool};
use crate::plan;
use crate::schema::validate::validate;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum ToolsWork {
    ListTools(ListPage),
    CallTool {
        tool: String,
        arguments: Value,
        /// Why the arguments are invalid: said only once the caller has passed the gate, so
        /// a tool's schema is never described to someone who may not use it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invalid: Option<String>,
    },
}

/// A `tools/list` page being filled: the tools shown so far (places in the catalogue) and
/// where the window of tools whose gates the host is asked about in this round starts.
#[derive(Serialize, Deserialize)]
pub(crate) struct ListPage {
    from: usize,
    round: u8,
    shown: Vec<usize>,
}

pub(crate) fn begin(
    cat: &Catalogue,
    ex: Exchange,
    params: Map<String, Value>,
    principal: Principal,
    stateless: Option<&Stateless>,
    notify: Option<Value>,
) -> Output {
    if ex.method == "tools/list" {
        let from = match page_offset(&ex, &params) {
            Ok(from) => from,
            Err(e) => return e,
        };
        return list_round(cat, ex, principal, ListPage { from, round: 0, shown: Vec::new() });
    }

    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return invalid_params(&ex, "Invalid params: name (the tool's name) is required");
    };
    let Some(tool) = cat.tool(name) else {
        let e = ex.fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: unknown tool '{name}'")).with_data(json!({"name": name}));
        return Output::error(&ex, e);
    };
    if !key_allows(&principal, tool) {
        let e = ex.fail(jsonrpc::OUT_OF_SCOPE, "out_of_scope: tool not in this key's allowlist").with_data(json!({"target": tool.spec.name}));
        return Output::error(&ex, e);
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
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(a @ Value::Object(_)) => a.clone(),
        Some(_) => return invalid_params(&ex, "Invalid params: arguments must be an object"),
    };
    let mut work = plan::effect(cat, tool, &arguments);
    if let Operation::Custom { .. } = tool.spec.operation {
        match input::client_input(&ex, &params, stateless) {
            Ok(Value::Object(fields)) => work.as_object_mut().expect("effects are objects").extend(fields),
            Ok(_) => unreachable!("client input is an object"),
            Err(refusal) => return refusal,
        }
    }
    let authorize = json!({"kind": "authorize", "tool": tool.spec.name, "checks": [tool.spec.gate.to_json()]});
    let schema: Value = serde_json::from_str(&tool.input_schema).expect("the catalogue rendered it");
    let (effects, invalid) = match validate(&schema, &arguments, &cat.patterns) {
        Ok(()) => (vec![authorize, work], None),
        Err(problem) => (vec![authorize], Some(format!("Invalid arguments: {problem}"))),
    };
    let work = ToolsWork::CallTool { tool: tool.spec.name.clone(), arguments, invalid };
    let effects = effects.iter().map(Value::to_string).collect();
    Output::Effects { effects, state: Pending { exchange: ex, principal, work: Work::Tools(work) }, notify }
}

/// The offset a list request's `cursor` stands for.
pub(crate) fn page_offset(ex: &Exchange, params: &Map<String, Value>) -> Result<usize, Output> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(c)) => decode_cursor(c).ok_or_else(|| invalid_params(ex, "Invalid params: unknown cursor")),
        Some(_) => Err(invalid_params(ex, "Invalid params: cursor must be a string")),
    }
}

/// One page of `items` from `offset`, under `key`, with `nextCursor` only when more follow
/// (`null` breaks the TypeScript SDK).
pub(crate) fn page_of(key: &str, items: Vec<Value>, offset: usize, size: usize) -> Value {
    let size = size.max(1);
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let mut result = json!({ key: page });
    // Saturating: a cursor is the client's text, and may name any offset.
    let next = offset.saturating_add(size);
    if next < total {
        result["nextCursor"] = json!(encode_cursor(next));
    }
    result
}

/// The catalogue places one round of a `tools/list` page asks the gates of: a page's worth
/// of the key's tools and one more (the next page's first, so that a cursor is only given
/// when a tool follows), then four pages' worth, then the rest. A caller who may use most
/// tools pays the gates of about one page, however large the catalogue; one who may use
/// few still has their page within three rounds.
fn window(cat: &Catalogue, principal: &Principal, list: &ListPage) -> Range<usize> {
    let page = cat.settings.page_size.max(1);
    let wanted = match list.round {
        0 => page.saturating_add(1),
        1 => page.saturating_mul(4),
        _ => usize::MAX,
    };
    let start = list.from.min(cat.tools.len());
    let mut end = start;
    let mut usable = 0;
    while end < cat.tools.len() && usable < wanted {
        usable += usize::from(key_allows(principal, &cat.tools[end]));
        end += 1;
    }
    start..end
}

fn key_allows(principal: &Principal, tool: &Tool) -> bool {
    principal.may_use(&[&tool.spec.name, &tool.spec.alias])
}

/// The distinct gates of the window's tools the key allows, in the order they first occur:
/// the order of the permissions effect and of its answers.
fn window_gates(cat: &Catalogue, principal: &Principal, window: Range<usize>) -> Vec<usize> {
    let mut seen = HashSet::new();
    cat.tools[window]
        .iter()
        .filter(|t| key_allows(principal, t) && seen.insert(t.gate_index))
        .map(|t| t.gate_index)
        .collect()
}

/// Ask for the gates of the next window, or, when no tool is left to ask about, answer with
/// the page as it stands (the catalogue's last).
fn list_round(cat: &Catalogue, ex: Exchange, principal: Principal, list: ListPage) -> Output {
    let gates = window_gates(cat, &principal, window(cat, &principal, &list));
    if gates.is_empty() {
        return Output::reply_text(cat, &ex, &tools_page(cat, &list.shown, None));
    }
    let checks: Vec<&str> = gates.iter().map(|&g| cat.tool_gate_checks[g].as_str()).collect();
    let effect = format!("{{\"kind\":\"permissions\",\"checks\":[{}]}}", checks.join(","));
    let state = Pending { exchange: ex, principal, work: Work::Tools(ToolsWork::ListTools(list)) };
    Output::Effects { effects: vec![effect], state, notify: None }
}

/// The window's answers: its visible tools fill the page; the first visible tool past a
/// full page is where the next page starts. Short of either, the walk goes on to the next
/// window; at the catalogue's end the page is the last.
fn list_answered(cat: &Catalogue, ex: Exchange, principal: Principal, mut list: ListPage, answer: &Value) -> Output {
    let Some(answers) = answer.get("ok").and_then(Value::as_array) else {
        return host_error(&ex, answer);
    };
    let window = window(cat, &principal, &list);
    let mut passes = vec![false; cat.tool_gate_checks.len()];
    for (gate, passed) in window_gates(cat, &principal, window.clone()).into_iter().zip(answers) {
        passes[gate] = passed.as_bool() == Some(true);
    }
    let size = cat.settings.page_size.max(1);
    // The state came back through the host: never more than a page, never past the catalogue.
    list.shown.retain(|&i| i < cat.tools.len());
    list.shown.truncate(size);
    for i in window.clone() {
        let tool = &cat.tools[i];
        if !(passes[tool.gate_index] && key_allows(&principal, tool)) {
            continue;
        }
        if list.shown.len() == size {
            return Output::reply_text(cat, &ex, &tools_page(cat, &list.shown, Some(i)));
        }
        list.shown.push(i);
    }
    list.from = window.end;
    list.round = list.round.saturating_add(1);
    list_round(cat, ex, principal, list)
}

/// `{"nextCursor"?, "tools": […]}` as text, from the descriptors rendered at load: a page
/// costs its length in bytes copied, whatever the tools' schemas hold.
fn tools_page(cat: &Catalogue, shown: &[usize], next: Option<usize>) -> String {
    let page: Vec<&str> = shown.iter().map(|&i| cat.tools[i].descriptor.as_str()).collect();
    let mut text = String::with_capacity(page.iter().map(|d| d.len() + 1).sum::<usize>() + 48);
    text.push('{');
    if let Some(next) = next {
        text.push_str(&format!("\"nextCursor\":{},", Value::String(encode_cursor(next))));
    }
    text.push_str("\"tools\":[");
    text.push_str(&page.join(","));
    text.push_str("]}");
    text
}

pub(crate) fn finish(cat: &Catalogue, ex: Exchange, principal: Principal, work: ToolsWork, results: Vec<&RawValue>) -> Output {
    // Gate results are small: parsed. The work's result stays raw for `plan::shape`.
    let parsed = |i: usize| results.get(i).and_then(|r| serde_json::from_str::<Value>(r.get()).ok()).unwrap_or(Value::Null);
    match work {
        ToolsWork::ListTools(list) => list_answered(cat, ex, principal, list, &parsed(0)),
        ToolsWork::CallTool { tool, arguments, invalid } => {
            let Some(tool) = cat.tool(&tool) else {
                return host_error(&ex, &json!({"error": {"kind": "internal", "message": "tool vanished"}}));
            };
            let authorized = parsed(0);
            if let Some(err) = authorized.get("error") {
                return match err.get("kind").and_then(Value::as_str) {
                    Some("forbidden") => {
                        let e = ex
                            .fail(jsonrpc::FORBIDDEN, "forbidden: your Django permissions do not allow this tool")
                            .with_data(json!({"target": tool.spec.name}));
                        Output::error(&ex, e)
                    }
                    Some("rate_limited") => Output::error(&ex, rate_limited(&ex, err)),
                    _ => host_error(&ex, &authorized),
                };
            }
            if let Some(problem) = invalid {
                return finished_call(cat, &ex, tool_error(problem), "handler_error");
            }
            let outcome = results.get(1).map(|r| r.get()).unwrap_or("null");
            if let Operation::Custom { .. } = tool.spec.operation {
                let answer = parsed(1);
                let unsupported = || {
                    let message = "This tool needs answers from the client (MCP 2026-07-28 multi round-trip requests); \
                                   call it over that revision.";
                    finished_call(cat, &ex, tool_error(message.to_string()), "handler_error")
                };
                if let Some(out) = input::input_required(cat, &ex, &answer, unsupported).or_else(|| input::invalid_input(&ex, &answer)) {
                    return out;
                }
            }
            let (done, audit_outcome) = plan::shape(cat, tool, &arguments, outcome);
            finished_call(cat, &ex, done, audit_outcome)
        }
    }
}

/// The host's `rate_limited` answer as the error a client can act on.
pub(crate) fn rate_limited(ex: &Exchange, err: &Value) -> RpcError {
    let retry_after = err.get("retry_after").and_then(Value::as_u64).unwrap_or(1);
    ex.fail(jsonrpc::RATE_LIMITED, format!("Rate limit exceeded: retry after {retry_after} s"))
        .with_data(json!({"retryAfter": retry_after}))
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

/// `structured` (JSON text) as `structuredContent` and, as the spec asks, as a text block,
/// followed by `links` (content items: `resource_link`s to the objects returned).
pub(crate) fn tool_success(structured: &str, links: &[Value]) -> ToolResult {
    structured_result(structured, links, None)
}

/// The same, marked `isError` because of `why`: the tool ran but its answer is a failure.
pub(crate) fn tool_failure(structured: &str, why: String) -> ToolResult {
    structured_result(structured, &[], Some(why))
}

/// A result the host built whole (a custom tool's `{content, isError, structuredContent?}`).
pub(crate) fn tool_result_text(text: String, error: Option<String>) -> ToolResult {
    ToolResult { text, error }
}

fn structured_result(structured: &str, links: &[Value], error: Option<String>) -> ToolResult {
    let quoted = serde_json::to_string(structured).expect("strings serialise");
    let extra: String = links.iter().map(|l| format!(",{l}")).collect();
    let failed = error.is_some();
    let text = format!("{{\"content\":[{{\"text\":{quoted},\"type\":\"text\"}}{extra}],\"isError\":{failed},\"structuredContent\":{structured}}}");
    ToolResult { text, error }
}

fn finished_call(cat: &Catalogue, ex: &Exchange, result: ToolResult, outcome: &'static str) -> Output {
    let mut out = Output::reply_text(cat, ex, &result.text);
    if let Output::Done { audit, .. } = &mut out {
        audit.outcome = outcome;
        if outcome != "allow" {
            audit.error_message = result.error;
        }
    }
    out
}

pub(crate) fn invalid_params(ex: &Exchange, message: &str) -> Output {
    Output::error(ex, ex.fail(jsonrpc::INVALID_PARAMS, message))
}

/// An effect failed in a way the request cannot recover from; the host has logged why.
pub(crate) fn host_error(ex: &Exchange, result: &Value) -> Output {
    let message = result.pointer("/error/message").and_then(Value::as_str).unwrap_or("Internal error");
    Output::error(ex, ex.fail(jsonrpc::INTERNAL_ERROR, format!("Internal error: {message}")))
}

fn encode_cursor(offset: usize) -> String {
    format!("o{offset}")
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    cursor.strip_prefix('o')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::step;

    fn library(page_size: usize) -> Catalogue {
        let mut facts: Value = serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts["settings"]["page_size"] = json!(page_size);
        Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0
    }

    /// Every page of `tools/list` (the tools' names) for a caller whose gates pass by
    /// `passes` and whose key allows `allowed`, with each round's number of checks.
    fn walk(cat: &Catalogue, allowed: &[&str], passes: impl Fn(&Value) -> bool) -> (Vec<Vec<String>>, Vec<usize>) {
        let context = json!({"principal": {"user_id": 1, "allowed_tools": allowed}});
        let (mut pages, mut rounds, mut cursor) = (Vec::new(), Vec::new(), Value::Null);
        loop {
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"cursor": cursor}});
            let mut input = json!({"message": message.to_string(), "context": context});
            let reply = loop {
                let text = step(cat, &input.to_string()).to_text();
                if let Some((_, reply)) = text.split_once('\n') {
                    break serde_json::from_str::<Value>(reply).unwrap();
                }
                let out: Value = serde_json::from_str(&text).unwrap();
                let effect: Value = serde_json::from_str(&out["effects"][0].to_string()).unwrap();
                let checks = effect["checks"].as_array().unwrap();
                rounds.push(checks.len());
                let answers: Vec<bool> = checks.iter().map(&passes).collect();
                input = json!({"resume": out["state"], "results": [{"ok": answers}]});
            };
            let tools = reply["result"]["tools"].as_array().unwrap();
            assert!(!tools.is_empty() && tools.len() <= cat.settings.page_size, "{reply}");
            pages.push(tools.iter().map(|t| t["name"].as_str().unwrap().to_string()).collect());
            cursor = reply["result"].get("nextCursor").cloned().unwrap_or(Value::Null);
            if cursor.is_null() {
                return (pages, rounds);
            }
        }
    }

    fn expected(cat: &Catalogue, allowed: &[&str], passes: impl Fn(&Value) -> bool) -> Vec<String> {
        let principal = Principal { user_id: json!(1), key_id: None, allowed_tools: allowed.iter().map(|a| a.to_string()).collect() };
        cat.tools
            .iter()
            .filter(|t| key_allows(&principal, t) && passes(&t.spec.gate.to_json()))
            .map(|t| t.spec.name.clone())
            .collect()
    }

    #[test]
    fn pages_show_every_visible_tool_once_asking_only_a_window_of_gates() {
        let cat = library(3);
        let no_deletes = |check: &Value| check["gate"] != "admin.delete";
        let (pages, _) = walk(&cat, &[], no_deletes);
        assert_eq!(pages.concat(), expected(&cat, &[], no_deletes));
        // Who may use every tool is asked, per page, about that page's gates only.
        let (everything, rounds) = walk(&cat, &[], |_| true);
        assert_eq!(everything.concat().len(), cat.tools.len());
        assert_eq!(rounds.len(), cat.tools.len().div_ceil(3));
        assert!(rounds.iter().all(|&checks| checks <= 4), "{rounds:?}");
    }

    #[test]
    fn a_caller_who_sees_few_tools_still_gets_them_within_three_rounds_a_page() {
        let cat = library(3);
        let only_views = |check: &Value| check["gate"] == "admin.view";
        let (pages, _) = walk(&cat, &[], only_views);
        assert_eq!(pages.concat(), expected(&cat, &[], only_views));
        let allowed = ["list_auth_user", "get_library_book"];
        let (listed, rounds) = walk(&cat, &allowed, |_| true);
        assert_eq!(listed, vec![allowed.to_vec()]);
        assert!(rounds.iter().all(|&checks| checks <= 2), "{rounds:?}");
    }

    #[test]
    fn a_full_page_has_a_cursor_only_when_a_visible_tool_follows() {
        let cat = library(3);
        let allowed = ["list_auth_group", "get_auth_group", "list_auth_user", "list_library_book"];
        let (pages, _) = walk(&cat, &allowed, |check| check["admin"] != "admin/library.book");
        assert_eq!(pages, vec![allowed[..3].to_vec()]);
        let (pages, _) = walk(&cat, &allowed, |_| true);
        assert_eq!(pages, vec![allowed[..3].to_vec(), allowed[3..].to_vec()]);
    }
}
