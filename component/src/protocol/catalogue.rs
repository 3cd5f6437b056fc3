//! Resources, resource templates, prompts and completion: listed per caller, read and
//! rendered by the host, gated like tools.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::tools::{host_error, invalid_params, page_of, page_offset, rate_limited};
use super::revisions::Stateless;
use super::{input, jsonrpc, Exchange, Output, Pending, Principal, Work};
use crate::derive::custom::match_template;
use crate::derive::{Catalogue, Gate};
use crate::facts::{CustomPromptFacts, CustomResourceFacts};

/// Completion answers carry at most this many values (the spec's limit).
const MAX_COMPLETIONS: usize = 100;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum CatalogueWork {
    ListResources { offset: usize },
    ListTemplates { offset: usize },
    ListPrompts { offset: usize },
    /// Waiting for the gate and the host's contents.
    Read,
    /// Waiting for the gate and the host's messages.
    GetPrompt,
    /// Waiting for the gate; the values are known already.
    Complete { values: Vec<String> },
}

fn gate(permission: &Option<String>) -> Gate {
    Gate::User { permission: permission.clone() }
}

pub(crate) fn begin(cat: &Catalogue, ex: Exchange, params: Map<String, Value>, principal: Principal, stateless: Option<&Stateless>) -> Output {
    let client_input = match ex.method.as_str() {
        "resources/read" | "prompts/get" => match input::client_input(&ex, &params, stateless) {
            Ok(fields) => fields,
            Err(refusal) => return refusal,
        },
        _ => Value::Null,
    };
    let with_input = |mut effect: Value| {
        if let (Some(effect), Value::Object(fields)) = (effect.as_object_mut(), &client_input) {
            effect.extend(fields.clone());
        }
        effect
    };
    let wait = |ex: Exchange, effects: Vec<Value>, work| Output::Effects {
        effects,
        state: Pending { exchange: ex, principal: principal.clone(), work: Work::Catalogue(work) },
        notify: None,
    };
    let listing = |ex: Exchange, gates: Vec<Gate>, work: fn(usize) -> CatalogueWork| {
        let offset = match page_offset(&ex, &params) {
            Ok(offset) => offset,
            Err(e) => return e,
        };
        let checks: Vec<Value> = gates.iter().map(Gate::to_json).collect();
        wait(ex, vec![json!({"kind": "permissions", "checks": checks})], work(offset))
    };
    match ex.method.as_str() {
        "resources/list" => {
            let gates = cat.resources.iter().map(|r| gate(&r.permission)).collect();
            listing(ex, gates, |offset| CatalogueWork::ListResources { offset })
        }
        "resources/templates/list" => {
            let gates = cat.resource_templates.iter().map(|r| gate(&r.permission)).collect();
            listing(ex, gates, |offset| CatalogueWork::ListTemplates { offset })
        }
        "prompts/list" => {
            let gates = cat.prompts.iter().map(|p| gate(&p.permission)).collect();
            listing(ex, gates, |offset| CatalogueWork::ListPrompts { offset })
        }
        "resources/read" => {
            let Some(uri) = params.get("uri").and_then(Value::as_str) else {
                return invalid_params(&ex, "Invalid params: uri is required");
            };
            let Some((resource, variables)) = find_resource(cat, uri) else {
                return not_found(&ex, "resource", uri);
            };
            let effects = vec![
                authorize(&resource.permission),
                with_input(json!({"kind": "custom.resource", "uri": uri, "template": resource.uri, "variables": variables})),
            ];
            wait(ex, effects, CatalogueWork::Read)
        }
        "prompts/get" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return invalid_params(&ex, "Invalid params: name (the prompt's name) is required");
            };
            let Some(prompt) = cat.prompts.iter().find(|p| p.name == name) else {
                return not_found(&ex, "prompt", name);
            };
            let arguments = match prompt_arguments(prompt, params.get("arguments")) {
                Ok(a) => a,
                Err(why) => return invalid_params(&ex, &format!("Invalid params: {why}")),
            };
            let effects = vec![authorize(&prompt.permission), with_input(json!({"kind": "custom.prompt", "name": name, "arguments": arguments}))];
            wait(ex, effects, CatalogueWork::GetPrompt)
        }
        _ => {
            let (permission, values) = match completion(cat, &params) {
                Ok(found) => found,
                Err(why) => return invalid_params(&ex, &format!("Invalid params: {why}")),
            };
            wait(ex, vec![authorize(&permission)], CatalogueWork::Complete { values })
        }
    }
}

fn authorize(permission: &Option<String>) -> Value {
    json!({"kind": "authorize", "checks": [gate(permission).to_json()]})
}

fn not_found(ex: &Exchange, what: &str, name: &str) -> Output {
    let key = if what == "resource" { "uri" } else { "name" };
    let e = ex.fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: unknown {what} '{name}'")).with_data(json!({ key: name }));
    Output::error(ex, e)
}

/// The concrete resource named `uri`, or the first template it matches with its values.
fn find_resource<'a>(cat: &'a Catalogue, uri: &str) -> Option<(&'a CustomResourceFacts, Map<String, Value>)> {
    if let Some(r) = cat.resources.iter().find(|r| r.uri == uri) {
        return Some((r, Map::new()));
    }
    cat.resource_templates.iter().find_map(|t| {
        let values = match_template(&t.uri, uri)?;
        Some((t, values.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
    })
}

/// Prompt arguments are strings; every required one must be there, unknown ones are refused.
fn prompt_arguments(prompt: &CustomPromptFacts, given: Option<&Value>) -> Result<Map<String, Value>, String> {
    let given = match given {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err("arguments must be an object of strings".into()),
    };
    for (name, value) in &given {
        if !prompt.arguments.iter().any(|a| &a.name == name) {
            return Err(format!("prompt '{}' has no argument '{name}'", prompt.name));
        }
        if !value.is_string() {
            return Err(format!("argument '{name}' must be a string"));
        }
    }
    if let Some(missing) = prompt.arguments.iter().find(|a| a.required && !given.contains_key(&a.name)) {
        return Err(format!("argument '{}' is required", missing.name));
    }
    Ok(given)
}

/// The permission guarding the completed item and the values that start with what was typed.
fn completion(cat: &Catalogue, params: &Map<String, Value>) -> Result<(Option<String>, Vec<String>), String> {
    let reference = params.get("ref").and_then(Value::as_object).ok_or("ref is required")?;
    let argument = params.get("argument").and_then(Value::as_object).ok_or("argument is required")?;
    let name = argument.get("name").and_then(Value::as_str).ok_or("argument.name is required")?;
    let typed = argument.get("value").and_then(Value::as_str).unwrap_or("");
    let (permission, choices) = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let prompt_name = reference.get("name").and_then(Value::as_str).ok_or("ref.name is required")?;
            let prompt = cat.prompts.iter().find(|p| p.name == prompt_name).ok_or(format!("unknown prompt '{prompt_name}'"))?;
            let arg = prompt.arguments.iter().find(|a| a.name == name).ok_or(format!("prompt '{prompt_name}' has no argument '{name}'"))?;
            (&prompt.permission, arg.choices.as_slice())
        }
        Some("ref/resource") => {
            let uri = reference.get("uri").and_then(Value::as_str).ok_or("ref.uri is required")?;
            let template = cat.resource_templates.iter().find(|t| t.uri == uri).ok_or(format!("unknown resource template '{uri}'"))?;
            (&template.permission, template.completions.get(name).map_or(&[][..], Vec::as_slice))
        }
        _ => return Err("ref.type must be ref/prompt or ref/resource".into()),
    };
    let values = choices.iter().filter(|c| c.starts_with(typed)).cloned().collect();
    Ok((permission.clone(), values))
}

pub(crate) fn finish(cat: &Catalogue, ex: Exchange, work: CatalogueWork, results: Vec<&RawValue>) -> Output {
    let parsed = |i: usize| results.get(i).and_then(|r| serde_json::from_str::<Value>(r.get()).ok()).unwrap_or(Value::Null);
    let first = parsed(0);
    if let Some(err) = first.get("error") {
        return match err.get("kind").and_then(Value::as_str) {
            Some("forbidden") => {
                let e = ex.fail(jsonrpc::FORBIDDEN, "forbidden: your Django permissions do not allow this").with_data(json!({"target": ex.target}));
                Output::error(&ex, e)
            }
            Some("rate_limited") => Output::error(&ex, rate_limited(&ex, err)),
            _ => host_error(&ex, &first),
        };
    }
    let passed = |i: usize| first.get("ok").and_then(Value::as_array).and_then(|a| a.get(i)).and_then(Value::as_bool) == Some(true);
    let size = cat.settings.page_size;
    match work {
        CatalogueWork::ListResources { offset } => {
            let items = visible(&cat.resources, passed, |r| describe_resource(r, "uri"));
            Output::reply(cat, &ex, page_of("resources", items, offset, size))
        }
        CatalogueWork::ListTemplates { offset } => {
            let items = visible(&cat.resource_templates, passed, |r| describe_resource(r, "uriTemplate"));
            Output::reply(cat, &ex, page_of("resourceTemplates", items, offset, size))
        }
        CatalogueWork::ListPrompts { offset } => {
            let items = visible(&cat.prompts, passed, describe_prompt);
            Output::reply(cat, &ex, page_of("prompts", items, offset, size))
        }
        CatalogueWork::Complete { values } => {
            let total = values.len();
            let shown: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
            let result = json!({"completion": {"values": shown, "total": total, "hasMore": total > MAX_COMPLETIONS}});
            Output::reply(cat, &ex, result)
        }
        CatalogueWork::Read | CatalogueWork::GetPrompt => {
            let answer = parsed(1);
            let unsupported = || {
                let e = ex.fail(jsonrpc::INVALID_PARAMS, "Invalid params: this needs answers from the client, which only MCP 2026-07-28 can give");
                Output::error(&ex, e)
            };
            if let Some(out) = input::input_required(cat, &ex, &answer, unsupported).or_else(|| input::invalid_input(&ex, &answer)) {
                return out;
            }
            if let Some(err) = answer.get("error") {
                return match err.get("kind").and_then(Value::as_str) {
                    Some("not_found") => not_found(&ex, "resource", ex.target.as_deref().unwrap_or("")),
                    Some("invalid") => invalid_params(&ex, &format!("Invalid params: {}", err.get("message").and_then(Value::as_str).unwrap_or("invalid"))),
                    _ => host_error(&ex, &answer),
                };
            }
            let body = answer.get("ok").cloned().unwrap_or(Value::Null);
            let (key, what) = if matches!(work, CatalogueWork::Read) { ("contents", "resource") } else { ("messages", "prompt") };
            match body.get(key).and_then(Value::as_array) {
                // 2026-07-28: an empty `contents` is not an answer; say not found instead.
                Some(items) if !items.is_empty() || key == "messages" => Output::reply(cat, &ex, body),
                Some(_) => not_found(&ex, what, ex.target.as_deref().unwrap_or("")),
                None => host_error(&ex, &json!({"error": {"message": format!("the host's {what} had no {key}")}})),
            }
        }
    }
}

fn visible<T>(items: &[T], passed: impl Fn(usize) -> bool, describe: impl Fn(&T) -> Value) -> Vec<Value> {
    items.iter().enumerate().filter(|(i, _)| passed(*i)).map(|(_, item)| describe(item)).collect()
}

fn describe_resource(r: &CustomResourceFacts, uri_key: &str) -> Value {
    let mut d = json!({ uri_key: r.uri, "name": r.name });
    for (key, value) in [("title", &r.title), ("description", &r.description), ("mimeType", &r.mime_type)] {
        if let Some(v) = value {
            d[key] = json!(v);
        }
    }
    d
}

fn describe_prompt(p: &CustomPromptFacts) -> Value {
    let arguments: Vec<Value> = p
        .arguments
        .iter()
        .map(|a| {
            let mut d = json!({"name": a.name, "required": a.required});
            if let Some(description) = &a.description {
                d["description"] = json!(description);
            }
            d
        })
        .collect();
    let mut d = json!({"name": p.name, "arguments": arguments});
    for (key, value) in [("title", &p.title), ("description", &p.description)] {
        if let Some(v) = value {
            d[key] = json!(v);
        }
    }
    d
}
