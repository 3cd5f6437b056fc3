//! Discovery mode (`DJANGO_MCP_DISCOVERY`): over the threshold, `tools/list` answers four
//! meta-tools — `find_tools`, `describe_tools`, `call_read_only_tool`, `call_tool` — and a
//! call through a meta-tool is `tools/call` of the real tool. Which tools a caller may use
//! is asked of the host in windows, as a list page asks: counting stops past the threshold,
//! and `find_tools` asks about its best matches until it has `limit` usable ones.
//!
//! The project's own custom tools (`DJANGO_MCP_CUSTOM`), written by hand for agents, are
//! listed beside the meta-tools, those the caller may use, while they are no more than the
//! threshold themselves: discovery is for the derived bulk, not for what was chosen.

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::errors::{host_error, invalid_params};
use super::gated::permissions;
use super::listing::{self, Listed};
use super::paging::page_offset;
use super::revisions::Stateless;
use super::tools::{self, tool_error, tool_success};
use super::toolset::Item;
use super::{Exchange, Failure, Output, Pending, Principal, Work};
use crate::derive::finder::Finder;
use crate::derive::{Catalogue, Operation, Readiness, Tool};
use crate::facts::Discovery;
use crate::seam::AuditOutcome;

const FIND: &str = "find_tools";
const DESCRIBE: &str = "describe_tools";
const CALL_READ_ONLY: &str = "call_read_only_tool";
const CALL: &str = "call_tool";
const VERBS: [&str; 10] = ["list", "get", "create", "update", "delete", "action", "search", "call", "custom", "any"];
const DEFAULT_LIMIT: u64 = 10;
const MAX_LIMIT: u64 = 50;
const MAX_DESCRIBED: usize = 20;

/// What `initialize` and `server/discover` add to the instructions when discovery is on.
pub(crate) const INSTRUCTIONS: &str = " When tools/list shows find_tools instead of the project's tools, \
    the project has more tools than fit a list: call find_tools with what you want to do in plain words \
    (it answers the best matching tools you may use), describe_tools with the names you pick (their \
    input and output schemas), then call_read_only_tool (tools that only read) or call_tool (any tool) \
    with {name, arguments}; the result is the tool's own. A tool's real name can also be called directly.";

/// The meta-tool `name` names, when discovery is on.
pub(crate) fn is_meta_tool(cat: &Catalogue, name: &str) -> bool {
    cat.finder.is_some() && [FIND, DESCRIBE, CALL_READ_ONLY, CALL].contains(&name)
}

/// The caller's key and endpoint let them reach `tool` (its gate is asked of the host).
fn reachable(cat: &Catalogue, principal: &Principal, tool: &Tool) -> bool {
    principal.may_use(cat, &Item::tool(cat, tool))
}

/// A walk through candidate tools asking the host about their gates in windows, until
/// `wanted` usable ones are found: the candidates' first `wanted`, then four times as many,
/// then the rest.
#[derive(Serialize, Deserialize)]
pub(crate) struct DiscoveryWork {
    discovery: Purpose,
    from: usize,
    round: u8,
    found: Vec<usize>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
enum Purpose {
    /// `tools/list` in `auto`: are there more usable tools than the threshold?
    Count {
        cursor: Option<Value>,
    },
    Find(FindArguments),
    Describe {
        names: Vec<String>,
    },
    /// `tools/list` once discovery applies: the custom tools listed beside the meta-tools.
    Custom,
}

#[derive(Serialize, Deserialize, Default)]
struct FindArguments {
    query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    verb: Option<String>,
    limit: usize,
}

impl Purpose {
    fn wanted(&self, cat: &Catalogue) -> usize {
        match self {
            Purpose::Count { .. } | Purpose::Custom => cat.settings.discovery_threshold.saturating_add(1),
            Purpose::Find(find) => find.limit,
            Purpose::Describe { names } => names.len(),
        }
    }

    /// The tools whose gates the walk may ask about, in the order it asks: only those the
    /// key allows, so nothing past the key is ever found.
    fn candidates(&self, cat: &Catalogue, finder: &Finder, principal: &Principal) -> Vec<usize> {
        let allowed = |i: usize| reachable(cat, principal, &cat.tools[i]);
        match self {
            Purpose::Count { .. } => (0..cat.tools.len()).filter(|&i| allowed(i)).collect(),
            Purpose::Custom => (0..cat.tools.len()).filter(|&i| is_custom(&cat.tools[i]) && allowed(i)).collect(),
            Purpose::Find(find) => {
                let narrowing = find.app.is_some() || find.model.is_some() || find.verb.is_some();
                finder.rank(&find.query, narrowing, |i| allowed(i) && narrowed(cat, finder, find, i))
            }
            Purpose::Describe { names } => {
                let mut seen = HashSet::new();
                names.iter().filter_map(|n| cat.tool_place(n)).filter(|&i| allowed(i) && seen.insert(i)).collect()
            }
        }
    }
}

fn is_custom(tool: &Tool) -> bool {
    matches!(tool.spec.operation, Operation::Custom { .. })
}

/// `find_tools`' optional narrowing: the app label, the model (label or name) and the verb.
fn narrowed(cat: &Catalogue, finder: &Finder, find: &FindArguments, i: usize) -> bool {
    let found = &finder.found[i];
    let model = found.model.map(|m| &cat.models[m]);
    let app_matches = find.app.as_ref().is_none_or(|app| model.is_some_and(|m| m.app_label.eq_ignore_ascii_case(app)));
    let model_matches = find.model.as_ref().is_none_or(|wanted| {
        model.is_some_and(|m| m.label.eq_ignore_ascii_case(wanted) || m.model_name.eq_ignore_ascii_case(wanted))
    });
    let verb_matches = find.verb.as_deref().is_none_or(|v| v == "any" || v == found.verb);
    app_matches && model_matches && verb_matches
}

/// `tools/list` when discovery is on: the meta-tools when the caller may use more tools
/// than the threshold (`always`: whatever they may use), else the catalogue as without it.
pub(crate) fn list_tools(cat: &Catalogue, ex: Exchange, params: &Map<String, Value>, principal: Principal) -> Output {
    if let Err(refusal) = page_offset(&ex, params) {
        return refusal;
    }
    if cat.settings.discovery == Discovery::Always {
        return walk_round(
            cat,
            ex,
            principal,
            DiscoveryWork { discovery: Purpose::Custom, from: 0, round: 0, found: Vec::new() },
        );
    }
    let threshold = cat.settings.discovery_threshold;
    let allowed = cat.tools.iter().filter(|t| reachable(cat, &principal, t)).take(threshold.saturating_add(1)).count();
    if allowed <= threshold {
        return listing::begin(cat, ex, params, principal, Listed::Tools);
    }
    let purpose = Purpose::Count { cursor: params.get("cursor").cloned() };
    walk_round(cat, ex, principal, DiscoveryWork { discovery: purpose, from: 0, round: 0, found: Vec::new() })
}

/// A `tools/call` of a meta-tool.
pub(crate) fn call(
    cat: &Catalogue,
    mut ex: Exchange,
    params: Map<String, Value>,
    principal: Principal,
    stateless: Option<&Stateless>,
    notify: Option<Value>,
) -> Output {
    let name = params.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => return invalid_params(&ex, "Invalid params: arguments must be an object"),
    };
    let purpose = match name.as_str() {
        FIND => find_arguments(&arguments).map(Purpose::Find),
        DESCRIBE => describe_arguments(&arguments).map(|names| Purpose::Describe { names }),
        _ => {
            let Some(real) = arguments.get("name").and_then(Value::as_str) else {
                return invalid(cat, &ex, "name (the tool to call) is required", "name");
            };
            ex.target = Some(real.to_string());
            if name == CALL_READ_ONLY && cat.tool(real).is_some_and(|t| !t.spec.hints.read_only) {
                let message =
                    format!("{real} is not read-only: call_read_only_tool calls only tools that read; use call_tool");
                return tools::finished_call(
                    cat,
                    &ex,
                    tool_error(message, Failure::new("not_read_only")),
                    AuditOutcome::HandlerError,
                );
            }
            let mut inner = params.clone();
            inner.insert("name".to_string(), json!(real));
            inner.insert("arguments".to_string(), arguments.get("arguments").cloned().unwrap_or(Value::Null));
            return tools::begin(cat, ex, inner, principal, stateless, notify);
        }
    };
    match purpose {
        Ok(purpose) => {
            walk_round(cat, ex, principal, DiscoveryWork { discovery: purpose, from: 0, round: 0, found: Vec::new() })
        }
        Err((message, path)) => invalid(cat, &ex, &message, path),
    }
}

fn invalid(cat: &Catalogue, ex: &Exchange, message: &str, path: &str) -> Output {
    let failure = Failure::naming("invalid_arguments", vec![path.to_string()]);
    tools::finished_call(
        cat,
        ex,
        tool_error(format!("Invalid arguments: {message}"), failure),
        AuditOutcome::HandlerError,
    )
}

type Invalid = (String, &'static str);

fn find_arguments(arguments: &Map<String, Value>) -> Result<FindArguments, Invalid> {
    let text = |key: &'static str| match arguments.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err((format!("{key} must be a string"), key)),
    };
    let Some(query) = text("query")?.filter(|q| !q.trim().is_empty()) else {
        return Err(("query (what you want to do, in words) is required".to_string(), "query"));
    };
    let verb = text("verb")?;
    if let Some(verb) = &verb {
        if !VERBS.contains(&verb.as_str()) {
            return Err((format!("verb must be one of {}", VERBS.join(", ")), "verb"));
        }
    }
    let limit = match arguments.get("limit") {
        None | Some(Value::Null) => DEFAULT_LIMIT,
        Some(limit) => limit
            .as_u64()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or((format!("limit must be an integer from 1 to {MAX_LIMIT}"), "limit"))?,
    };
    Ok(FindArguments { query, app: text("app")?, model: text("model")?, verb, limit: limit as usize })
}

fn describe_arguments(arguments: &Map<String, Value>) -> Result<Vec<String>, Invalid> {
    let names = arguments.get("names").and_then(Value::as_array).filter(|n| !n.is_empty() && n.len() <= MAX_DESCRIBED);
    let names: Option<Vec<String>> = names.and_then(|n| n.iter().map(|v| v.as_str().map(str::to_string)).collect());
    names.ok_or((format!("names must be a list of 1 to {MAX_DESCRIBED} tool names"), "names"))
}

/// The candidates the walk asks about in this round.
fn window(work: &DiscoveryWork, wanted: usize, candidates: usize) -> Range<usize> {
    let size = match work.round {
        0 => wanted,
        1 => wanted.saturating_mul(4),
        _ => usize::MAX,
    };
    let start = work.from.min(candidates);
    start..start.saturating_add(size).min(candidates)
}

/// The distinct gates of the window's candidates, in the order they first occur.
fn window_gates(cat: &Catalogue, candidates: &[usize]) -> Vec<usize> {
    let mut seen = HashSet::new();
    candidates.iter().map(|&i| cat.tools[i].gate_index).filter(|&g| seen.insert(g)).collect()
}

fn walk_round(cat: &Catalogue, ex: Exchange, principal: Principal, work: DiscoveryWork) -> Output {
    let Some(finder) = cat.finder.as_ref() else { return host_error(&ex, &Value::Null) };
    let candidates = work.discovery.candidates(cat, finder, &principal);
    let wanted = work.discovery.wanted(cat);
    let window = window(&work, wanted, candidates.len());
    if window.is_empty() || work.found.len() >= wanted {
        return finish(cat, ex, principal, work);
    }
    let gates = window_gates(cat, &candidates[window]);
    Output::Effects {
        effects: vec![permissions(cat, gates)],
        state: Pending { exchange: ex, principal, work: Work::Discovery(work) },
        notify: None,
    }
}

/// The host's answers for a window: its usable candidates are found, in order, until the
/// walk has what it wants; short of that, on to the next window.
pub(crate) fn answered(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    mut work: DiscoveryWork,
    answer: &Value,
) -> Output {
    let Some(answers) = answer.get("ok").and_then(Value::as_array) else {
        return host_error(&ex, answer);
    };
    let Some(finder) = cat.finder.as_ref() else { return host_error(&ex, &Value::Null) };
    let candidates = work.discovery.candidates(cat, finder, &principal);
    let wanted = work.discovery.wanted(cat);
    let window = window(&work, wanted, candidates.len());
    let mut passes = vec![false; cat.gate_checks.len()];
    for (gate, passed) in window_gates(cat, &candidates[window.clone()]).into_iter().zip(answers) {
        passes[gate] = passed.as_bool() == Some(true);
    }
    // The state came back through the host: never more than wanted.
    work.found.truncate(wanted);
    for &i in &candidates[window.clone()] {
        if work.found.len() == wanted {
            break;
        }
        if passes[cat.tools[i].gate_index] {
            work.found.push(i);
        }
    }
    work.from = window.end;
    work.round = work.round.saturating_add(1);
    walk_round(cat, ex, principal, work)
}

fn finish(cat: &Catalogue, ex: Exchange, principal: Principal, work: DiscoveryWork) -> Output {
    let Some(finder) = cat.finder.as_ref() else { return host_error(&ex, &Value::Null) };
    // A tool whose form could not be built is found by nobody.
    let found =
        work.found.iter().copied().filter(|&i| cat.tools.get(i).is_some_and(|t| t.readiness != Readiness::Unavailable));
    match work.discovery {
        Purpose::Count { cursor } => {
            if work.found.len() > cat.settings.discovery_threshold {
                let custom = DiscoveryWork { discovery: Purpose::Custom, from: 0, round: 0, found: Vec::new() };
                return walk_round(cat, ex, principal, custom);
            }
            let params: Map<String, Value> = cursor.map(|c| ("cursor".to_string(), c)).into_iter().collect();
            listing::begin(cat, ex, &params, principal, Listed::Tools)
        }
        Purpose::Custom => {
            let listed = if work.found.len() > cat.settings.discovery_threshold { Vec::new() } else { work.found };
            let descriptors: Vec<&str> =
                listed.iter().filter_map(|&i| cat.tools.get(i)).map(|t| t.descriptor.as_str()).collect();
            let meta = meta_tools().to_string();
            let tools = if descriptors.is_empty() {
                meta
            } else {
                format!("{},{}]", &meta[..meta.len() - 1], descriptors.join(","))
            };
            Output::reply_text(cat, &ex, &format!("{{\"tools\":{tools}}}"))
        }
        Purpose::Find(_) => {
            let matches: Vec<Value> = found
                .map(|i| {
                    let (tool, about) = (&cat.tools[i], &finder.found[i]);
                    json!({"name": tool.spec.name, "title": tool.spec.title, "description": about.summary,
                           "verb": about.verb, "model": about.model.map(|m| &cat.models[m].label), "readOnly": tool.spec.hints.read_only})
                })
                .collect();
            tools::finished_call(
                cat,
                &ex,
                tool_success(&json!({"tools": matches}).to_string(), &[]),
                AuditOutcome::Allow,
            )
        }
        Purpose::Describe { names } => {
            let waited = cat.waited_for(found.clone());
            if !waited.is_empty() {
                return Output::NeedForms(waited);
            }
            let described: Vec<&str> = found.clone().map(|i| cat.tools[i].descriptor.as_str()).collect();
            let shown: HashSet<&str> =
                found.map(|i| &cat.tools[i]).flat_map(|t| [t.spec.name.as_str(), t.spec.alias.as_str()]).collect();
            // Unknown and forbidden alike: a name's absence says nothing about why.
            let unavailable: Vec<&String> = names.iter().filter(|n| !shown.contains(n.as_str())).collect();
            let structured = format!("{{\"tools\":[{}],\"unavailable\":{}}}", described.join(","), json!(unavailable));
            tools::finished_call(cat, &ex, tool_success(&structured, &[]), AuditOutcome::Allow)
        }
    }
}

/// The meta-tools' `tools/list` entries.
fn meta_tools() -> Value {
    let annotations = |title: &str, read_only: bool| json!({"title": title, "readOnlyHint": read_only, "destructiveHint": !read_only, "idempotentHint": read_only, "openWorldHint": false});
    let call_input = json!({"type": "object", "required": ["name"], "additionalProperties": false, "properties": {
        "name": {"type": "string", "description": "The tool's name, as find_tools gave it."},
        "arguments": {"type": "object", "description": "The tool's arguments, as its inputSchema (describe_tools) says."},
    }});
    let found_tool = json!({"type": "object", "properties": {
        "name": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
        "verb": {"type": "string"}, "model": {"type": ["string", "null"]}, "readOnly": {"type": "boolean"},
    }});
    json!([
        {"name": FIND, "title": "Find tools",
         "description": "Find the tools you may use for a task, described in plain words ('add a tag to a book', \
                         'books published last year'): the best matches first, with their name, title, one-line \
                         description, verb, model and whether they only read.",
         "annotations": annotations("Find tools", true),
         "inputSchema": {"type": "object", "required": ["query"], "additionalProperties": false, "properties": {
             "query": {"type": "string", "description": "What you want to do, in words."},
             "app": {"type": "string", "description": "Only tools of this app (its label)."},
             "model": {"type": "string", "description": "Only tools of this model ('library.Book' or 'book')."},
             "verb": {"type": "string", "enum": VERBS, "description": "Only tools that do this."},
             "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
         }},
         "outputSchema": {"type": "object", "required": ["tools"], "properties": {"tools": {"type": "array", "items": found_tool}}}},
        {"name": DESCRIBE, "title": "Describe tools",
         "description": "The full descriptions of the named tools (input and output schemas, annotations), as tools/list \
                         would give them. Names you may not use, or that do not exist, come back under unavailable.",
         "annotations": annotations("Describe tools", true),
         "inputSchema": {"type": "object", "required": ["names"], "additionalProperties": false, "properties": {
             "names": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_DESCRIBED},
         }},
         "outputSchema": {"type": "object", "required": ["tools", "unavailable"], "properties": {
             "tools": {"type": "array", "items": {"type": "object"}},
             "unavailable": {"type": "array", "items": {"type": "string"}},
         }}},
        {"name": CALL_READ_ONLY, "title": "Call a read-only tool",
         "description": "Call a tool that only reads (readOnly in find_tools) with its arguments; refuses any other. \
                         The result is the tool's own, as if it were called directly.",
         "annotations": annotations("Call a read-only tool", true),
         "inputSchema": call_input},
        {"name": CALL, "title": "Call a tool",
         "description": "Call any tool you may use with its arguments; it may change or delete data. The result is \
                         the tool's own, as if it were called directly.",
         "annotations": annotations("Call a tool", false),
         "inputSchema": call_input},
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::step;
    use crate::protocol::testing::reply_to;

    fn library(discovery: &str, threshold: usize) -> Catalogue {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts["settings"]["discovery"] = json!(discovery);
        facts["settings"]["discovery_threshold"] = json!(threshold);
        Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0
    }

    fn context(allowed: &[&str]) -> Value {
        json!({"principal": {"user_id": 1, "allowed_tools": allowed}})
    }

    /// The reply to `method` for a caller whose gates pass by `passes`, and every check asked.
    fn ask(
        cat: &Catalogue,
        allowed: &[&str],
        method: &str,
        params: Value,
        passes: impl Fn(&Value) -> bool,
    ) -> (Value, Vec<Value>) {
        let mut asked = Vec::new();
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let reply = reply_to(cat, message, &context(allowed), |effect| match effect["checks"].as_array() {
            Some(checks) => {
                asked.extend(checks.iter().cloned());
                match effect["kind"].as_str() {
                    Some("authorize") => json!(true),
                    _ => json!(checks.iter().map(&passes).collect::<Vec<bool>>()),
                }
            }
            None => json!({"results": [{"title": "Dune"}], "count": 1}),
        });
        (reply, asked)
    }

    fn names(tools: &Value) -> Vec<String> {
        tools.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
    }

    fn find(
        cat: &Catalogue,
        allowed: &[&str],
        arguments: Value,
        passes: impl Fn(&Value) -> bool,
    ) -> (Vec<String>, Vec<Value>) {
        let (reply, asked) = ask(cat, allowed, "tools/call", json!({"name": FIND, "arguments": arguments}), passes);
        (names(&reply["result"]["structuredContent"]["tools"]), asked)
    }

    #[test]
    fn over_the_threshold_tools_list_answers_the_meta_tools_and_under_it_the_catalogue() {
        let total = library("off", 40).tools.len();
        let (meta, asked) = ask(&library("auto", 10), &[], "tools/list", json!({}), |_| true);
        assert_eq!(names(&meta["result"]["tools"]), [FIND, DESCRIBE, CALL_READ_ONLY, CALL]);
        assert!(asked.len() <= 11, "counting stops past the threshold: {}", asked.len());
        let (full, _) = ask(&library("auto", total), &[], "tools/list", json!({}), |_| true);
        assert_eq!(full["result"]["tools"].as_array().unwrap().len(), total);
        // Only the tools a caller may use count: few usable tools are listed as they are.
        let (few, _) =
            ask(&library("auto", 10), &[], "tools/list", json!({}), |check| check["admin"] == "admin/library.author");
        assert!(
            few["result"]["tools"].as_array().unwrap().len() <= 10
                && names(&few["result"]["tools"]).contains(&"list_library_author".to_string())
        );
        let (allowlisted, asked) =
            ask(&library("auto", 10), &["list_library_book", "get_library_book"], "tools/list", json!({}), |_| true);
        assert_eq!(names(&allowlisted["result"]["tools"]), ["list_library_book", "get_library_book"]);
        assert!(asked.len() <= 2);
        let (always, asked) = ask(&library("always", 1000), &[], "tools/list", json!({}), |_| true);
        assert_eq!(names(&always["result"]["tools"]).len(), 4);
        assert!(asked.is_empty());
    }

    #[test]
    fn find_tools_answers_only_usable_tools_asking_the_gates_of_its_best_matches() {
        let cat = library("auto", 10);
        let (everything, asked) = find(&cat, &[], json!({"query": "add a new author", "limit": 3}), |_| true);
        assert_eq!(everything[0], "create_library_author");
        assert_eq!(everything.len(), 3);
        assert!(asked.len() <= 3, "one window of the best matches: {asked:?}");
        let view_only = |check: &Value| check["gate"] == "admin.view" || check["gate"] == "search";
        let (viewer, _) = find(&cat, &[], json!({"query": "add a new book", "limit": 3}), view_only);
        assert!(
            !viewer.is_empty()
                && viewer.iter().all(|n| n.starts_with("list_") || n.starts_with("get_") || n.starts_with("search_")),
            "{viewer:?}"
        );
        let (keyed, _) =
            find(&cat, &["get_library_book", "list_library_author"], json!({"query": "add a new book"}), |_| true);
        assert_eq!(keyed, ["get_library_book"]);
        let (authors, _) = find(&cat, &[], json!({"query": "book", "model": "author", "verb": "list"}), |_| true);
        assert_eq!(authors, ["list_library_author"]);
        let (bad, _) =
            ask(&cat, &[], "tools/call", json!({"name": FIND, "arguments": {"query": "x", "limit": 0}}), |_| true);
        assert_eq!(bad["result"]["isError"], true);
    }

    #[test]
    fn describe_tools_gives_descriptors_and_says_nothing_of_forbidden_or_unknown_names() {
        let cat = library("auto", 10);
        let arguments = json!({"names": ["get_library_book", "delete_library_book", "nope"]});
        let (reply, _) = ask(&cat, &[], "tools/call", json!({"name": DESCRIBE, "arguments": arguments}), |c| {
            c["gate"] != "admin.delete"
        });
        let described = &reply["result"]["structuredContent"];
        let descriptor: Value = serde_json::from_str(&cat.tool("get_library_book").unwrap().descriptor).unwrap();
        assert_eq!(described["tools"], json!([descriptor]));
        assert_eq!(described["unavailable"], json!(["delete_library_book", "nope"]));
    }

    #[test]
    fn a_call_through_a_meta_tool_is_the_call_of_the_real_tool() {
        let cat = library("auto", 10);
        let arguments = json!({"page_size": 5});
        let direct = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_library_book", "arguments": arguments}});
        let through = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": CALL_READ_ONLY, "arguments": {"name": "list_library_book", "arguments": arguments}}});
        let first = |message: &Value| {
            step(&cat, &json!({"message": message.to_string(), "context": context(&[])}).to_string()).to_text()
        };
        let (direct_step, through_step) = (first(&direct), first(&through));
        let effects = |text: &str| serde_json::from_str::<Value>(text).unwrap()["effects"].clone();
        assert_eq!(effects(&direct_step), effects(&through_step));
        let (direct_reply, _) = ask(&cat, &[], "tools/call", direct["params"].clone(), |_| true);
        let (through_reply, _) = ask(&cat, &[], "tools/call", through["params"].clone(), |_| true);
        assert_eq!(direct_reply, through_reply);
        let resumed = json!({"resume": serde_json::from_str::<Value>(&through_step).unwrap()["state"], "results": [{"ok": true}, {"ok": {"results": [], "count": 0}}]});
        let done = step(&cat, &resumed.to_string()).to_text();
        let audit: Value = serde_json::from_str(done.lines().next().unwrap()).unwrap();
        assert_eq!(audit["done"]["audit"]["target"], "list_library_book", "audited under the real tool's name");
        // The read-only path refuses a tool that writes; the general one calls it.
        let write = json!({"name": "delete_library_book", "arguments": {"pk": 1}});
        let (refused, asked) =
            ask(&cat, &[], "tools/call", json!({"name": CALL_READ_ONLY, "arguments": write}), |_| true);
        assert_eq!((refused["result"]["isError"].clone(), asked.len()), (json!(true), 0));
        let (called, asked) = ask(&cat, &[], "tools/call", json!({"name": CALL, "arguments": write}), |_| true);
        assert_eq!((called["result"]["isError"].clone(), asked.len()), (json!(false), 1), "{called}");
        // Out of the key's allowlist: refused as tools/call refuses it.
        let (out_of_scope, _) =
            ask(&cat, &["list_library_book"], "tools/call", json!({"name": CALL, "arguments": write}), |_| true);
        let (direct_refusal, _) = ask(&cat, &["list_library_book"], "tools/call", write, |_| true);
        assert_eq!(out_of_scope, direct_refusal);
    }

    #[test]
    fn discovery_off_has_no_meta_tools_and_instructions_say_how_to_use_them_when_on() {
        let off = library("off", 10);
        let (reply, _) = ask(&off, &[], "tools/call", json!({"name": FIND, "arguments": {"query": "book"}}), |_| true);
        assert!(reply["error"].is_object(), "{reply}");
        let (init, _) =
            ask(&library("auto", 10), &[], "initialize", json!({"protocolVersion": "2025-06-18"}), |_| true);
        assert!(init["result"]["instructions"].as_str().unwrap().contains("find_tools"));
    }
}
