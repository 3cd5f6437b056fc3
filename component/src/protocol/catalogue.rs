//! Resources, resource templates, prompts and completion: gated like tools (templates and
//! prompts are listed in `listing`), read and rendered by the host (custom items, model
//! objects and files) or here (admin-action and user prompts).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::errors::{forbidden, host_error, invalid_params, not_found, out_of_scope, rate_limited};
use super::paging::{decode_objects_cursor, objects_cursor, page_of, page_offset};
use super::revisions::Stateless;
use super::toolset::Item;
use super::{input, jsonrpc, parsed_result, Exchange, Output, Pending, Principal, Work};
use crate::derive::resources::{render_body, PromptSpec, Reader, Renderer, ResourceSpec, Source};
use crate::derive::{Catalogue, Gate};
use crate::facts::PromptArgumentFacts;
use crate::schema::fields::ModelIndex;
use crate::seam::{Effect, HostErrorKind};

/// Completion answers carry at most this many values (the spec's limit); also the most
/// objects one `resources/list` page holds.
const MAX_COMPLETIONS: usize = 100;

/// How many empty models one `resources/list` request passes over before it answers with
/// an empty page and a cursor (each costs the host an effect round).
const MAX_EMPTY_SKIPS: usize = 4;

/// How many model templates one `resources/list` request asks the gates of: the one it
/// lists and those that may follow it. A page costs this many gates however many models
/// there are; past them, a cursor names the next model and the walk goes on from there.
const TEMPLATE_WINDOW: usize = 16;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum CatalogueWork {
    ListResources {
        from: ListFrom,
    },
    /// Waiting for one page of a model template's objects; `visible` are the model
    /// templates of the window the caller may read, in order, and `beyond` the model
    /// template past the window, if any.
    ListObjects {
        template: usize,
        offset: usize,
        visible: Vec<usize>,
        beyond: Option<usize>,
        skipped: usize,
    },
    /// Waiting for the gate and the host's contents.
    Read {
        uri: String,
        reader: ReadShape,
    },
    /// Waiting for the gate, and the host's messages unless they are already rendered.
    GetPrompt {
        rendered: Option<Value>,
    },
    /// Waiting for the gate; the values are known already.
    Complete {
        values: Vec<String>,
    },
    /// Waiting for the gate and the host's objects.
    CompleteObjects,
}

/// Where a `resources/list` page starts: in the concrete resources, or in the objects of
/// the model templates (`m<template>.<offset>` cursors: the objects of that template from
/// `offset`, or, when the caller may not read it, of the first one after it they may).
#[derive(Serialize, Deserialize, Clone, Copy)]
pub(crate) enum ListFrom {
    Concrete(usize),
    Objects { template: usize, offset: usize },
}

impl ListFrom {
    /// Where the window of model templates a page asks about starts.
    fn template(self) -> usize {
        match self {
            ListFrom::Concrete(_) => 0,
            ListFrom::Objects { template, .. } => template,
        }
    }
}

/// What the host's answer to a read is shaped into.
#[derive(Serialize, Deserialize, Clone, Copy)]
pub(crate) enum ReadShape {
    Custom,
    Object,
    File,
}

/// Whether the key and the endpoint let the caller reach this resource or template.
fn allowed(cat: &Catalogue, principal: &Principal, resource: &ResourceSpec) -> bool {
    principal.may_use(cat, &Item::resource(cat, resource))
}

pub(crate) fn begin(
    cat: &Catalogue,
    ex: Exchange,
    params: Map<String, Value>,
    principal: Principal,
    stateless: Option<&Stateless>,
) -> Output {
    let client_input = match ex.method.as_str() {
        "resources/read" | "prompts/get" => match input::client_input(&ex, &params, stateless) {
            Ok(input) => Some(input),
            Err(refusal) => return refusal,
        },
        _ => None,
    };
    let wait = |ex: Exchange, effects: Vec<String>, work| Output::Effects {
        effects,
        state: Pending { exchange: ex, principal: principal.clone(), work: Work::Catalogue(work) },
        notify: None,
    };
    let gates_of = |gates: Vec<&Gate>| {
        let checks = gates.into_iter().map(|gate| Cow::Owned(gate.to_raw_json())).collect();
        Effect::Permissions { checks }.to_text()
    };
    match ex.method.as_str() {
        "resources/list" => {
            let from = match params.get("cursor") {
                Some(Value::String(c)) if c.starts_with('m') => match decode_objects_cursor(c) {
                    Some((template, offset)) if template < cat.resource_templates.len() => {
                        ListFrom::Objects { template, offset }
                    }
                    _ => return invalid_params(&ex, "Invalid params: unknown cursor"),
                },
                _ => match page_offset(&ex, &params) {
                    Ok(offset) => ListFrom::Concrete(offset),
                    Err(e) => return e,
                },
            };
            let window = template_window(cat, from.template());
            let gates = cat
                .resources
                .iter()
                .map(|r| &r.gate)
                .chain(window.iter().map(|&t| &cat.resource_templates[t].gate))
                .collect();
            wait(ex, vec![gates_of(gates)], CatalogueWork::ListResources { from })
        }
        "resources/read" => {
            let Some(uri) = params.get("uri").and_then(Value::as_str) else {
                return invalid_params(&ex, "Invalid params: uri is required");
            };
            let Some((resource, variables)) = find_resource(cat, uri) else {
                return not_found(&ex, "resource", uri);
            };
            if let Some(why) = principal.refusal(cat, &Item::resource(cat, resource)) {
                return out_of_scope(&ex, "", &resource.uri, why);
            }
            let pk = variables.get("pk").cloned();
            let (work, shape) = match &resource.reader {
                Reader::Custom { .. } => (
                    Effect::CustomResource { uri, template: &resource.uri, variables: &variables, input: client_input },
                    ReadShape::Custom,
                ),
                Reader::Object { source, fields, masked, .. } => {
                    (Effect::ResourceObject { source: source.to_json(), pk, fields, masked }, ReadShape::Object)
                }
                Reader::File { source, field } => (
                    Effect::ResourceFile {
                        source: source.to_json(),
                        pk,
                        field,
                        max_bytes: cat.settings.field_resource_max_bytes,
                    },
                    ReadShape::File,
                ),
            };
            let effects = vec![authorize(&resource.gate), work.to_text()];
            wait(ex, effects, CatalogueWork::Read { uri: uri.to_string(), reader: shape })
        }
        "prompts/get" => {
            let Some(name) = params.get("name").and_then(Value::as_str) else {
                return invalid_params(&ex, "Invalid params: name (the prompt's name) is required");
            };
            let Some(prompt) = cat.prompt(name) else {
                return not_found(&ex, "prompt", name);
            };
            if let Some(why) = principal.refusal(cat, &Item::prompt(cat, prompt)) {
                return out_of_scope(&ex, "", &prompt.name, why);
            }
            let arguments = match prompt_arguments(prompt, params.get("arguments")) {
                Ok(a) => a,
                Err(why) => return invalid_params(&ex, &format!("Invalid params: {why}")),
            };
            let mut effects = vec![authorize(&prompt.gate)];
            let rendered = render(prompt, &arguments);
            if rendered.is_none() {
                let input = client_input;
                effects.push(Effect::CustomPrompt { name, arguments: &arguments, input }.to_text());
            }
            wait(ex, effects, CatalogueWork::GetPrompt { rendered })
        }
        _ => match completion(cat, &params) {
            Ok(Completion { item, scope, gate, answer }) => {
                // The audit line names the prompt or template completed, as reads and gets do.
                let ex = Exchange { target: Some(item.to_string()), ..ex };
                if let Some(why) = principal.refusal(cat, &scope) {
                    return out_of_scope(&ex, "", item, why);
                }
                match answer {
                    Answer::Values(values) => wait(ex, vec![authorize(gate)], CatalogueWork::Complete { values }),
                    Answer::Objects(effect) => wait(ex, vec![authorize(gate), effect], CatalogueWork::CompleteObjects),
                }
            }
            Err(why) => invalid_params(&ex, &format!("Invalid params: {why}")),
        },
    }
}

fn authorize(gate: &Gate) -> String {
    Effect::Authorize { tool: None, checks: vec![gate.to_json()] }.to_text()
}

/// The concrete resource named `uri`, or the first template it matches with its values.
fn find_resource<'a>(cat: &'a Catalogue, uri: &str) -> Option<(&'a ResourceSpec, Map<String, Value>)> {
    if let Some(r) = cat.resources.iter().find(|r| r.uri == uri) {
        return Some((r, Map::new()));
    }
    let (template, values) = cat.matching_template(uri)?;
    Some((template, values.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

/// Prompt arguments are strings; every required one must be there, unknown ones are refused.
fn prompt_arguments(prompt: &PromptSpec, given: Option<&Value>) -> Result<Map<String, Value>, String> {
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

/// Messages for prompts the engine renders itself; `None` for custom ones (the host's).
fn render(prompt: &PromptSpec, arguments: &Map<String, Value>) -> Option<Value> {
    let text = match &prompt.renderer {
        Renderer::Custom => return None,
        Renderer::Action { tool, what, plural } => {
            let pks = arguments.get("pks").and_then(Value::as_str).unwrap_or("");
            let list: Vec<Value> = pks.split(',').map(str::trim).filter(|p| !p.is_empty()).map(pk_value).collect();
            format!(
                "{what}: apply this Django admin action to the {plural} with primary keys {pks}. \
                 Call the tool `{tool}` with {}.",
                json!({ "pks": list })
            )
        }
        Renderer::Body(body) => render_body(body, arguments),
    };
    let mut result = json!({"messages": [{"role": "user", "content": {"type": "text", "text": text}}]});
    if let Some(description) = &prompt.description {
        result["description"] = json!(description);
    }
    Some(result)
}

/// A pk typed in a prompt: a number when it reads as one.
fn pk_value(text: &str) -> Value {
    text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// What a completion completes: the prompt or template (`item`, by the name an allowlist
/// uses, and `scope`, what the key and the endpoint judge), its gate, and the values or the
/// host's lookup that answer it.
struct Completion<'a> {
    item: &'a str,
    scope: Item<'a>,
    gate: &'a Gate,
    answer: Answer,
}

enum Answer {
    Values(Vec<String>),
    /// Primary keys the host looks up (those the caller can see): the effect, as text.
    Objects(String),
}

fn completion<'a>(cat: &'a Catalogue, params: &Map<String, Value>) -> Result<Completion<'a>, String> {
    let reference = params.get("ref").and_then(Value::as_object).ok_or("ref is required")?;
    let argument = params.get("argument").and_then(Value::as_object).ok_or("argument is required")?;
    let name = argument.get("name").and_then(Value::as_str).ok_or("argument.name is required")?;
    let typed = argument.get("value").and_then(Value::as_str).unwrap_or("");
    // A redacted primary key is never shown, so it is never offered either.
    let objects = |source: &Source, prefix: &str| {
        if pk_is_redacted(cat, source) {
            Answer::Values(Vec::new())
        } else {
            let prefix = Some(prefix);
            Answer::Objects(
                Effect::ResourceObjects { source: source.to_json(), offset: 0, limit: MAX_COMPLETIONS as u64, prefix }
                    .to_text(),
            )
        }
    };
    let prefixed =
        |choices: &[String]| Answer::Values(choices.iter().filter(|c| c.starts_with(typed)).cloned().collect());
    match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let prompt_name = reference.get("name").and_then(Value::as_str).ok_or("ref.name is required")?;
            let prompt = cat.prompt(prompt_name).ok_or(format!("unknown prompt '{prompt_name}'"))?;
            let arg: &PromptArgumentFacts = prompt
                .arguments
                .iter()
                .find(|a| a.name == name)
                .ok_or(format!("prompt '{prompt_name}' has no argument '{name}'"))?;
            let answer = match (&prompt.objects, name) {
                // `pks` is comma-separated: complete the last one.
                (Some(source), "pks") => objects(source, typed.rsplit(',').next().unwrap_or("").trim()),
                _ => prefixed(&arg.choices),
            };
            Ok(Completion { item: &prompt.name, scope: Item::prompt(cat, prompt), gate: &prompt.gate, answer })
        }
        Some("ref/resource") => {
            let uri = reference.get("uri").and_then(Value::as_str).ok_or("ref.uri is required")?;
            let template = cat
                .resource_templates
                .iter()
                .find(|t| t.uri == uri)
                .ok_or(format!("unknown resource template '{uri}'"))?;
            let answer = match (&template.reader, template.objects()) {
                (Reader::Custom { completions }, _) => prefixed(completions.get(name).map_or(&[][..], Vec::as_slice)),
                (_, Some(source)) if name == "pk" => objects(source, typed),
                _ => return Err(format!("resource template '{uri}' has no variable '{name}'")),
            };
            Ok(Completion { item: &template.uri, scope: Item::resource(cat, template), gate: &template.gate, answer })
        }
        _ => Err("ref.type must be ref/prompt or ref/resource".into()),
    }
}

/// Whether the primary key of the model behind `source` is a redacted field.
fn pk_is_redacted(cat: &Catalogue, source: &Source) -> bool {
    let model = match source {
        Source::Admin(id) => cat.admin_ids.iter().position(|a| a == id).map(|admin| cat.admin_model(admin)),
        Source::Model(label) => cat.model(label),
    };
    model.is_some_and(|m| cat.is_redacted(m, &m.pk))
}

pub(crate) fn finish(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    work: CatalogueWork,
    results: Vec<&RawValue>,
) -> Output {
    let parsed = |i: usize| parsed_result(&results, i);
    let first = parsed(0);
    if let Some(err) = first.get("error") {
        return match HostErrorKind::of(err) {
            HostErrorKind::Forbidden => {
                forbidden(&ex, "your Django permissions do not allow this", json!({"target": ex.target}))
            }
            HostErrorKind::RateLimited => Output::error(&ex, rate_limited(&ex, err)),
            _ => host_error(&ex, &first),
        };
    }
    let passed = |i: usize| {
        first.get("ok").and_then(Value::as_array).and_then(|a| a.get(i)).and_then(Value::as_bool) == Some(true)
    };
    let size = cat.settings.page_size;
    match work {
        CatalogueWork::ListResources { from } => {
            let concrete = cat.resources.len();
            let window = template_window(cat, from.template());
            let visible: Vec<usize> = window
                .iter()
                .enumerate()
                .filter(|&(i, &t)| passed(concrete + i) && allowed(cat, &principal, &cat.resource_templates[t]))
                .map(|(_, &t)| t)
                .collect();
            let beyond = window.last().and_then(|&last| model_templates(cat, last + 1).next());
            // Where the model objects start for this caller: the first they may read in the
            // window, else a cursor to the models past it.
            let objects_start = visible.first().map(|&t| objects_cursor(t, 0)).or(beyond.map(|t| objects_cursor(t, 0)));
            match from {
                ListFrom::Concrete(offset) if offset < concrete || visible.is_empty() => {
                    let items: Vec<Value> = cat
                        .resources
                        .iter()
                        .enumerate()
                        .filter(|(i, r)| passed(*i) && allowed(cat, &principal, r))
                        .map(|(_, r)| describe_resource(r, "uri"))
                        .collect();
                    let total = items.len();
                    let mut result = page_of("resources", items, offset, size);
                    // After the last concrete page come the model objects, if any may follow.
                    if offset.saturating_add(size) >= total {
                        match &objects_start {
                            Some(cursor) => result["nextCursor"] = json!(cursor),
                            None => {
                                result.as_object_mut().map(|r| r.remove("nextCursor"));
                            }
                        }
                    }
                    Output::reply(cat, &ex, result)
                }
                // A project without concrete resources starts straight with the model objects.
                ListFrom::Concrete(_) => list_objects(cat, ex, principal, visible[0], 0, visible, beyond, 0),
                ListFrom::Objects { template, offset } => match visible.first() {
                    Some(&first) => {
                        let offset = if first == template { offset } else { 0 };
                        list_objects(cat, ex, principal, first, offset, visible, beyond, 0)
                    }
                    // None of the window's models may be read: on to the models past it.
                    None => {
                        let mut result = json!({"resources": []});
                        if let Some(cursor) = objects_start {
                            result["nextCursor"] = json!(cursor);
                        }
                        Output::reply(cat, &ex, result)
                    }
                },
            }
        }
        CatalogueWork::ListObjects { template, offset, visible, beyond, skipped } => {
            let page = first.get("ok").cloned().unwrap_or(Value::Null);
            let Some(objects) = page.get("objects").and_then(Value::as_array) else {
                return host_error(&ex, &first);
            };
            // The state came back through the host: a template it names must still be one.
            let Some(spec) = cat.resource_templates.get(template).filter(|t| t.objects().is_some()) else {
                return host_error(&ex, &json!({"error": {"message": "the continuation named no model template"}}));
            };
            let items: Vec<Value> = objects
                .iter()
                .map(|o| {
                    let pk = pk_text(o.get("pk").unwrap_or(&Value::Null));
                    json!({"uri": spec.uri.replace("{pk}", &pk), "name": format!("{} {pk}", spec.name),
                           "title": o.get("label"), "mimeType": "application/json"})
                })
                .collect();
            let count = items.len();
            let more = page.get("more") == Some(&Value::Bool(true));
            let following = visible
                .iter()
                .copied()
                .find(|&t| t > template && cat.resource_templates.get(t).is_some_and(|t| t.objects().is_some()));
            // A model without objects is passed over in the same request, a few at a time.
            if let (0, false, Some(next), true) = (count, more, following, skipped < MAX_EMPTY_SKIPS) {
                return list_objects(cat, ex, principal, next, 0, visible, beyond, skipped + 1);
            }
            let mut result = json!({"resources": items});
            let next = if more {
                Some(objects_cursor(template, offset.saturating_add(count)))
            } else {
                following.or(beyond).map(|t| objects_cursor(t, 0))
            };
            if let Some(cursor) = next {
                result["nextCursor"] = json!(cursor);
            }
            Output::reply(cat, &ex, result)
        }
        CatalogueWork::Complete { values } => completed(cat, &ex, values),
        CatalogueWork::CompleteObjects => {
            let answer = parsed(1);
            match answer.pointer("/ok/objects").and_then(Value::as_array) {
                Some(objects) => {
                    completed(cat, &ex, objects.iter().map(|o| pk_text(o.get("pk").unwrap_or(&Value::Null))).collect())
                }
                None => host_error(&ex, &answer),
            }
        }
        CatalogueWork::GetPrompt { rendered: Some(rendered) } => Output::reply(cat, &ex, rendered),
        CatalogueWork::Read { .. } | CatalogueWork::GetPrompt { rendered: None } => {
            let answer = parsed(1);
            let unsupported = || {
                let e = ex.fail(
                    jsonrpc::INVALID_PARAMS,
                    "Invalid params: this needs answers from the client, which only MCP 2026-07-28 can give",
                );
                Output::error(&ex, e)
            };
            if let Some(out) =
                input::input_required(cat, &ex, &answer, unsupported).or_else(|| input::invalid_input(&ex, &answer))
            {
                return out;
            }
            if let Some(err) = answer.get("error") {
                let uri = ex.target.clone().unwrap_or_default();
                return match HostErrorKind::of(err) {
                    HostErrorKind::NotFound => not_found(&ex, "resource", &uri),
                    HostErrorKind::Forbidden => {
                        forbidden(&ex, "your Django permissions do not allow this", json!({"uri": uri}))
                    }
                    HostErrorKind::TooLarge => {
                        let message = err.get("message").and_then(Value::as_str).unwrap_or("the file is too large");
                        let e = ex
                            .fail(jsonrpc::INVALID_PARAMS, format!("Invalid params: {message}"))
                            .with_data(json!({"uri": uri}));
                        Output::error(&ex, e)
                    }
                    _ => host_error(&ex, &answer),
                };
            }
            let body = answer.get("ok").cloned().unwrap_or(Value::Null);
            match work {
                CatalogueWork::Read { uri, reader } => read_result(cat, &ex, &uri, reader, body),
                _ if body.get("messages").is_some_and(Value::is_array) => Output::reply(cat, &ex, body),
                _ => host_error(&ex, &json!({"error": {"message": "the host's prompt had no messages"}})),
            }
        }
    }
}

/// Ask the host for one page of a model template's objects.
#[allow(clippy::too_many_arguments)]
fn list_objects(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    template: usize,
    offset: usize,
    visible: Vec<usize>,
    beyond: Option<usize>,
    skipped: usize,
) -> Output {
    let Some(source) = cat.resource_templates.get(template).and_then(|t| t.objects()) else {
        return host_error(&ex, &json!({"error": {"message": "the continuation named no model template"}}));
    };
    let limit = cat.settings.page_size.min(MAX_COMPLETIONS);
    let effect =
        Effect::ResourceObjects { source: source.to_json(), offset: offset as u64, limit: limit as u64, prefix: None };
    let work = CatalogueWork::ListObjects { template, offset, visible, beyond, skipped };
    Output::Effects {
        effects: vec![effect.to_text()],
        state: Pending { exchange: ex, principal, work: Work::Catalogue(work) },
        notify: None,
    }
}

/// The `resources/read` result for the host's answer.
fn read_result(cat: &Catalogue, ex: &Exchange, uri: &str, reader: ReadShape, body: Value) -> Output {
    let contents = match reader {
        ReadShape::Custom => match body.get("contents").and_then(Value::as_array) {
            // 2026-07-28: an empty `contents` is not an answer; say not found instead.
            Some(items) if !items.is_empty() => return Output::reply(cat, ex, body),
            Some(_) => return not_found(ex, "resource", uri),
            None => return host_error(ex, &json!({"error": {"message": "the host's resource had no contents"}})),
        },
        ReadShape::Object => match body.get("object") {
            Some(object) => json!([{"uri": uri, "mimeType": "application/json", "text": object.to_string()}]),
            None => return host_error(ex, &json!({"error": {"message": "the host's object was missing"}})),
        },
        ReadShape::File => {
            let mut item = json!({"uri": uri, "mimeType": body.get("mime_type").cloned().unwrap_or(json!("application/octet-stream"))});
            match (body.get("text"), body.get("blob")) {
                (Some(text), _) => item["text"] = text.clone(),
                (None, Some(blob)) => item["blob"] = blob.clone(),
                _ => return host_error(ex, &json!({"error": {"message": "the host's file had no content"}})),
            }
            json!([item])
        }
    };
    Output::reply(cat, ex, json!({ "contents": contents }))
}

fn completed(cat: &Catalogue, ex: &Exchange, values: Vec<String>) -> Output {
    let total = values.len();
    let shown: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
    Output::reply(cat, ex, json!({"completion": {"values": shown, "total": total, "hasMore": total > MAX_COMPLETIONS}}))
}

fn pk_text(pk: &Value) -> String {
    match pk {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The model templates a `resources/list` page from `start` asks the gates of.
fn template_window(cat: &Catalogue, start: usize) -> Vec<usize> {
    model_templates(cat, start).take(TEMPLATE_WINDOW).collect()
}

/// The places of the model templates (those listing objects) from place `start` on.
fn model_templates(cat: &Catalogue, start: usize) -> impl Iterator<Item = usize> + '_ {
    (start..cat.resource_templates.len()).filter(|&t| cat.resource_templates[t].objects().is_some())
}

pub(crate) fn describe_resource(r: &ResourceSpec, uri_key: &str) -> Value {
    let mut d = json!({ uri_key: r.uri, "name": r.name });
    for (key, value) in [("title", &r.title), ("description", &r.description), ("mimeType", &r.mime_type)] {
        if let Some(v) = value {
            d[key] = json!(v);
        }
    }
    d
}

pub(crate) fn describe_prompt(p: &PromptSpec) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::step;
    use crate::protocol::testing::reply_to;

    /// The library with `copies` more Book-like admins: each adds a model template and a
    /// file template, so there are far more model templates than a window.
    fn many_models(copies: usize) -> Catalogue {
        Catalogue::derive(serde_json::from_value(many_models_facts(copies)).unwrap()).unwrap().0
    }

    fn many_models_facts(copies: usize) -> Value {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        let model = facts["models"].as_array().unwrap().iter().find(|m| m["label"] == "library.Book").unwrap().clone();
        let admin = facts["admins"].as_array().unwrap().iter().find(|a| a["model"] == "library.Book").unwrap().clone();
        for i in 0..copies {
            let mut m = model.clone();
            m["label"] = json!(format!("many.Thing{i:02}"));
            m["app_label"] = json!("many");
            m["model_name"] = json!(format!("thing{i:02}"));
            facts["models"].as_array_mut().unwrap().push(m);
            let mut a = admin.clone();
            a["id"] = json!(format!("admin/many.thing{i:02}"));
            a["model"] = json!(format!("many.Thing{i:02}"));
            facts["admins"].as_array_mut().unwrap().push(a);
        }
        facts["settings"]["page_size"] = json!(3);
        facts
    }

    /// Every `resources/list` page (the URIs) for a caller whose gates pass by `passes` and
    /// whose key allows `allowed`; each model has one object (pk 1), and `empty` models none.
    /// Also the most gates one request asked about.
    fn walk(
        cat: &Catalogue,
        allowed: &[&str],
        passes: impl Fn(&Value) -> bool,
        empty: impl Fn(&Value) -> bool,
    ) -> (Vec<Vec<String>>, usize) {
        let context = json!({"principal": {"user_id": 1, "allowed_tools": allowed}});
        let (mut pages, mut most_checks, mut cursor) = (Vec::new(), 0, Value::Null);
        loop {
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list", "params": {"cursor": cursor}});
            let reply = reply_to(cat, message, &context, |effect| match effect["kind"].as_str().unwrap() {
                "permissions" => {
                    let checks = effect["checks"].as_array().unwrap();
                    most_checks = most_checks.max(checks.len());
                    json!(checks.iter().map(&passes).collect::<Vec<_>>())
                }
                "resource.objects" if empty(&effect["source"]) => json!({"objects": [], "more": false}),
                "resource.objects" => json!({"objects": [{"pk": 1, "label": "one"}], "more": false}),
                other => panic!("unexpected effect {other}"),
            });
            let resources = reply["result"]["resources"].as_array().unwrap_or_else(|| panic!("{reply}"));
            pages.push(resources.iter().map(|r| r["uri"].as_str().unwrap().to_string()).collect());
            cursor = reply["result"].get("nextCursor").cloned().unwrap_or(Value::Null);
            if cursor.is_null() {
                return (pages, most_checks);
            }
            assert!(pages.len() < 100, "paging does not end");
        }
    }

    /// The URIs a caller sees, the slow way: every model template's own gate and allowlist.
    fn expected(
        cat: &Catalogue,
        allowed: &[&str],
        passes: impl Fn(&Value) -> bool,
        empty: impl Fn(&Value) -> bool,
    ) -> Vec<String> {
        let principal = Principal {
            user_id: json!(1),
            allowed_tools: allowed.iter().map(|a| a.to_string()).collect(),
            ..Default::default()
        };
        cat.resource_templates
            .iter()
            .filter(|t| {
                t.objects().is_some_and(|source| !empty(&source.to_json()))
                    && passes(&t.gate.to_json())
                    && principal.may_use(cat, &Item::resource(cat, t))
            })
            .map(|t| t.uri.replace("{pk}", "1"))
            .collect()
    }

    #[test]
    fn resource_pages_list_every_readable_model_asking_a_window_of_gates() {
        let cat = many_models(30);
        let models = cat.resource_templates.iter().filter(|t| t.objects().is_some()).count();
        assert!(models > 3 * TEMPLATE_WINDOW, "{models} model templates");
        let everything = |_: &Value| true;
        let none_empty = |_: &Value| false;
        type Answer = Box<dyn Fn(&Value) -> bool>;
        let cases: Vec<(Vec<&str>, Answer, Answer)> = vec![
            (vec![], Box::new(everything), Box::new(none_empty)),
            // Only one model far down the list: empty pages with cursors lead to it.
            (vec![], Box::new(|check: &Value| check["admin"] == "admin/many.thing27"), Box::new(none_empty)),
            (
                vec!["django-mcp://model/many.Thing05/{pk}", "django-mcp://field/many.Thing29/{pk}/cover"],
                Box::new(everything),
                Box::new(none_empty),
            ),
            // Models without objects are passed over.
            (vec![], Box::new(everything), Box::new(|source: &Value| source.to_string().contains("many.thing1"))),
        ];
        for (allowed, passes, empty) in &cases {
            let (pages, most_checks) = walk(&cat, allowed, passes, empty);
            assert_eq!(pages.concat(), expected(&cat, allowed, passes, empty), "allowed {allowed:?}");
            assert!(most_checks <= cat.resources.len() + TEMPLATE_WINDOW, "{most_checks} gates in one request");
            assert!(pages.iter().all(|p| p.len() <= cat.settings.page_size));
        }
    }

    #[test]
    fn a_returned_object_links_its_own_models_resource() {
        let cat = many_models(30);
        let context = json!({"principal": {"user_id": 1, "allowed_tools": []}});
        for (model, tool) in [
            ("library.Book", "get_library_book"),
            ("many.Thing00", "get_many_thing00"),
            ("many.Thing29", "get_many_thing29"),
        ] {
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {"pk": 7}}});
            let reply = reply_to(&cat, message, &context, |effect| match effect["kind"].as_str().unwrap() {
                "authorize" => json!(true),
                "admin.retrieve" => json!({"object": {"id": 7, "title": "t"}}),
                other => panic!("unexpected effect {other}"),
            });
            let links: Vec<_> = reply["result"]["content"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["type"] == "resource_link")
                .collect();
            assert_eq!(links.len(), 1, "{reply}");
            assert_eq!(links[0]["uri"], format!("django-mcp://model/{model}/7"));
            assert_eq!(links[0]["name"], format!("{model} 7"));
        }
    }

    #[test]
    fn a_uri_is_matched_by_the_first_template_it_matches() {
        use crate::derive::custom::match_template;

        let mut facts = many_models_facts(30);
        // Templates whose heads overlap others' and one with no variable at all.
        for (uri, name) in [
            ("test://items/{id}", "items"),
            ("test://items/{id}/{part}", "parts"),
            ("test://it{x}", "it"),
            ("test://fixed", "fixed"),
            ("test://a/{x}", "a"),
            ("test://{y}/b", "b"),
        ] {
            facts["custom"]["resource_templates"].as_array_mut().unwrap().push(json!({"uri": uri, "name": name}));
        }
        let cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
        let mut uris: Vec<String> = cat
            .resource_templates
            .iter()
            .map(|t| {
                t.uri
                    .replace("{pk}", "7")
                    .replace("{id}", "3")
                    .replace("{part}", "p")
                    .replace("{x}", "em")
                    .replace("{y}", "z")
            })
            .collect();
        uris.extend(
            [
                "django-mcp://model/many.Thing99/7",
                "django-mcp://model/",
                "test://items/",
                "test://items/3/p/q",
                "test://i",
                "test://fixed/",
                "",
                "django-mcp://field/library.Book/7/nope",
                "test://a/b",
                "test://c/b",
            ]
            .map(String::from),
        );
        for uri in &uris {
            let slow = cat
                .resource_templates
                .iter()
                .find_map(|t| match_template(&t.uri, uri).map(|values| (t.uri.clone(), values)));
            let fast = cat.matching_template(uri).map(|(t, values)| (t.uri.clone(), values));
            assert_eq!(fast, slow, "{uri}");
        }
        assert_eq!(cat.matching_template("test://items/3").unwrap().0.uri, "test://items/{id}");
        assert_eq!(cat.matching_template("test://items/3/p").unwrap().0.uri, "test://items/{id}/{part}");
        // Both match; the first declared wins, though the other's head is shorter.
        assert_eq!(cat.matching_template("test://a/b").unwrap().0.uri, "test://a/{x}");
        assert_eq!(
            cat.matching_template("django-mcp://model/many.Thing29/7").unwrap().0.uri,
            "django-mcp://model/many.Thing29/{pk}"
        );
    }

    #[test]
    fn prompts_are_found_by_name_first_to_last() {
        let cat = many_models(30);
        let context = json!({"principal": {"user_id": 1, "allowed_tools": []}});
        let (first, last) = (&cat.prompts[0], &cat.prompts[cat.prompts.len() - 1]);
        assert!(last.name.contains("thing29"), "{}", last.name);
        for prompt in [first, last] {
            let arguments: Map<String, Value> = prompt.arguments.iter().map(|a| (a.name.clone(), json!("1"))).collect();
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": prompt.name, "arguments": arguments}});
            let reply = reply_to(&cat, message, &context, |effect| match effect["kind"].as_str().unwrap() {
                "authorize" => json!(true),
                other => panic!("unexpected effect {other}"),
            });
            let text = reply["result"]["messages"][0]["content"]["text"].as_str().unwrap_or_else(|| panic!("{reply}"));
            assert!(text.contains(&prompt.name), "{text}");
        }
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": "nope"}});
        let reply = reply_to(&cat, message, &context, |effect| panic!("unexpected effect {effect}"));
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
    }

    /// Completes `argument` of `reference` for a key allowing `allowed`; the effects asked for
    /// are recorded (gates pass, every model has the objects 1 and 2).
    fn complete(cat: &Catalogue, allowed: &[&str], reference: Value, argument: &str) -> (Value, Vec<String>) {
        let context = json!({"principal": {"user_id": 1, "allowed_tools": allowed}});
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": "completion/complete",
                             "params": {"ref": reference, "argument": {"name": argument, "value": ""}}});
        let mut asked = Vec::new();
        let reply = reply_to(cat, message, &context, |effect| {
            asked.push(effect["kind"].as_str().unwrap().to_string());
            match effect["kind"].as_str().unwrap() {
                "authorize" => json!(true),
                "resource.objects" => {
                    json!({"objects": [{"pk": 1, "label": "one"}, {"pk": 2, "label": "two"}], "more": false})
                }
                other => panic!("unexpected effect {other}"),
            }
        });
        (reply, asked)
    }

    #[test]
    fn completion_is_refused_for_items_outside_the_keys_allowlist() {
        let cat = many_models(0);
        let user = json!({"type": "ref/resource", "uri": "django-mcp://model/auth.User/{pk}"});
        let prompt = json!({"type": "ref/prompt", "name": "mark_published_library_book"});
        for (reference, argument) in [(&user, "pk"), (&prompt, "pks")] {
            let (reply, asked) = complete(&cat, &["list_library_author"], reference.clone(), argument);
            assert_eq!(reply["error"]["code"], jsonrpc::OUT_OF_SCOPE, "{reply}");
            assert!(asked.is_empty(), "asked the host {asked:?}");
            let (reply, _) = complete(&cat, &[], reference.clone(), argument);
            assert_eq!(reply["result"]["completion"]["values"], json!(["1", "2"]), "{reply}");
        }
        let (reply, _) = complete(&cat, &["django-mcp://model/auth.User/{pk}"], user, "pk");
        assert_eq!(reply["result"]["completion"]["values"], json!(["1", "2"]), "{reply}");
    }

    #[test]
    fn a_redacted_primary_key_is_never_completed() {
        let mut facts = many_models_facts(0);
        facts["settings"]["redact_fields"] = json!(["library.Book.id"]);
        let cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
        let book = json!({"type": "ref/resource", "uri": "django-mcp://model/library.Book/{pk}"});
        let prompt = json!({"type": "ref/prompt", "name": "mark_published_library_book"});
        for (reference, argument) in [(book, "pk"), (prompt, "pks")] {
            let (reply, asked) = complete(&cat, &[], reference, argument);
            assert_eq!(reply["result"]["completion"]["values"], json!([]), "{reply}");
            assert!(!asked.contains(&"resource.objects".to_string()), "asked the host {asked:?}");
        }
        let (reply, _) =
            complete(&cat, &[], json!({"type": "ref/resource", "uri": "django-mcp://model/library.Author/{pk}"}), "pk");
        assert_eq!(reply["result"]["completion"]["values"], json!(["1", "2"]), "{reply}");
    }

    #[test]
    fn a_cursor_past_every_model_ends_the_list() {
        let cat = many_models(2);
        let cursor = objects_cursor(cat.resource_templates.len() - 1, 0);
        let message = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list", "params": {"cursor": cursor}});
        let input = json!({"message": message.to_string(), "context": {"principal": {"user_id": 1}}});
        let out: Value = serde_json::from_str(&step(&cat, &input.to_string()).to_text()).unwrap();
        let checks =
            serde_json::from_str::<Value>(&out["effects"][0].to_string()).unwrap()["checks"].as_array().unwrap().len();
        assert_eq!(checks, 1, "the last model template only");
        let bad = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list", "params": {"cursor": objects_cursor(999, 0)}});
        let text =
            step(&cat, &json!({"message": bad.to_string(), "context": {"principal": {"user_id": 1}}}).to_string())
                .to_text();
        assert!(text.contains("unknown cursor"), "{text}");
    }
}
