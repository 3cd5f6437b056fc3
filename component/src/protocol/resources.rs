//! `resources/list` and `resources/read` (`resources/templates/list` is in `listing`):
//! concrete resources and the objects of model templates, gated like tools; read by the
//! host (custom items, model objects and files) and shaped here.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::completion::MAX_COMPLETIONS;
use super::errors::{host_error, invalid_params, not_found, out_of_scope};
use super::gated::{authorize, host_answer, permissions, pk_text, refused, wait, Answered};
use super::paging::{decode_objects_cursor, objects_cursor, page_of, page_offset};
use super::revisions::Stateless;
use super::toolset::Item;
use super::{input, parsed_result, Exchange, Output, Principal, Work};
use crate::derive::resources::{Reader, ResourceSpec};
use crate::derive::Catalogue;
use crate::seam::Effect;

/// How many empty models one `resources/list` request passes over before it answers with
/// an empty page and a cursor (each costs the host an effect round).
const MAX_EMPTY_SKIPS: usize = 4;

/// How many model templates one `resources/list` request asks the gates of: the one it
/// lists and those that may follow it. A page costs this many gates however many models
/// there are; past them, a cursor names the next model and the walk goes on from there.
const TEMPLATE_WINDOW: usize = 16;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum ResourcesWork {
    ListResources {
        from: ListFrom,
    },
    ListObjects(ObjectsPage),
    /// Waiting for the gate and the host's contents.
    Read {
        uri: String,
        reader: ReadShape,
    },
}

/// Waiting for one page of a model template's objects; `visible` are the model templates
/// of the window the caller may read, in order, and `beyond` the model template past the
/// window, if any.
#[derive(Serialize, Deserialize)]
pub(crate) struct ObjectsPage {
    template: usize,
    offset: usize,
    visible: Vec<usize>,
    beyond: Option<usize>,
    skipped: usize,
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
    fn of(cat: &Catalogue, ex: &Exchange, params: &Map<String, Value>) -> Result<ListFrom, Output> {
        match params.get("cursor") {
            Some(Value::String(c)) if c.starts_with('m') => match decode_objects_cursor(c) {
                Some((template, offset)) if template < cat.resource_templates.len() => {
                    Ok(ListFrom::Objects { template, offset })
                }
                _ => Err(invalid_params(ex, "Invalid params: unknown cursor")),
            },
            _ => page_offset(ex, params).map(ListFrom::Concrete),
        }
    }

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

/// `resources/list`: the gates of every concrete resource and of a window of model templates.
pub(crate) fn list(cat: &Catalogue, ex: Exchange, params: &Map<String, Value>, principal: Principal) -> Output {
    let from = match ListFrom::of(cat, &ex, params) {
        Ok(from) => from,
        Err(refusal) => return refusal,
    };
    let window = template_window(cat, from.template());
    let gates = cat.resource_gates.iter().copied().chain(window.iter().map(|&t| cat.template_gates[t]));
    let effects = vec![permissions(cat, gates)];
    wait(ex, principal, effects, Work::Resources(ResourcesWork::ListResources { from }))
}

/// `resources/read`: the gate, and the host's read of the resource.
pub(crate) fn read(
    cat: &Catalogue,
    ex: Exchange,
    params: &Map<String, Value>,
    principal: Principal,
    stateless: Option<&Stateless>,
) -> Output {
    let client_input = match input::client_input(&ex, params, stateless) {
        Ok(input) => input,
        Err(refusal) => return refusal,
    };
    let Some(uri) = params.get("uri").and_then(Value::as_str) else {
        return invalid_params(&ex, "Invalid params: uri is required");
    };
    let Some((resource, gate, variables)) = find_resource(cat, uri) else {
        return not_found(&ex, "resource", uri);
    };
    if let Some(why) = principal.refusal(cat, &Item::resource(cat, resource)) {
        return out_of_scope(&ex, "", &resource.uri, why);
    }
    let pk = variables.get("pk").cloned();
    let (effect, shape) = match &resource.reader {
        Reader::Custom { .. } => (
            Effect::CustomResource { uri, template: &resource.uri, variables: &variables, input: Some(client_input) },
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
    let effects = vec![authorize(cat, None, gate), effect.to_text()];
    wait(ex, principal, effects, Work::Resources(ResourcesWork::Read { uri: uri.to_string(), reader: shape }))
}

/// The concrete resource named `uri`, or the first template it matches with its values;
/// with its gate's place in `Catalogue::gate_checks`.
fn find_resource<'a>(cat: &'a Catalogue, uri: &str) -> Option<(&'a ResourceSpec, usize, Map<String, Value>)> {
    if let Some(r) = cat.resources.iter().position(|r| r.uri == uri) {
        return Some((&cat.resources[r], cat.resource_gates[r], Map::new()));
    }
    let (t, values) = cat.matching_template(uri)?;
    let values = values.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    Some((&cat.resource_templates[t], cat.template_gates[t], values))
}

pub(crate) fn finish(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    work: ResourcesWork,
    results: Vec<&RawValue>,
) -> Output {
    let first = parsed_result(&results, 0);
    if let Some(out) = refused(&ex, &first, None) {
        return out;
    }
    match work {
        ResourcesWork::ListResources { from } => {
            let passed = |i: usize| {
                first.get("ok").and_then(Value::as_array).and_then(|a| a.get(i)).and_then(Value::as_bool) == Some(true)
            };
            gates_answered(cat, ex, principal, from, passed)
        }
        ResourcesWork::ListObjects(page) => objects_answered(cat, ex, principal, page, &first),
        ResourcesWork::Read { uri, reader } => {
            match host_answer(cat, &ex, &parsed_result(&results, 1), Answered::Resource) {
                Ok(body) => read_result(cat, &ex, &uri, reader, body),
                Err(out) => out,
            }
        }
    }
}

/// The gates answered (`passed`, in the order `list` asked them): a page of the concrete
/// resources, or the model objects' first page for this caller.
fn gates_answered(
    cat: &Catalogue,
    ex: Exchange,
    principal: Principal,
    from: ListFrom,
    passed: impl Fn(usize) -> bool,
) -> Output {
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
    let objects_start = visible.first().or(beyond.as_ref()).map(|&t| objects_cursor(t, 0));
    match from {
        ListFrom::Concrete(offset) if offset < concrete || visible.is_empty() => {
            let shown = cat.resources.iter().enumerate().filter(|(i, r)| passed(*i) && allowed(cat, &principal, r));
            Output::reply(cat, &ex, concrete_page(cat, shown.map(|(_, r)| r).collect(), offset, objects_start))
        }
        // A project without concrete resources starts straight with the model objects.
        ListFrom::Concrete(_) => {
            let page = ObjectsPage { template: visible[0], offset: 0, visible, beyond, skipped: 0 };
            list_objects(cat, ex, principal, page)
        }
        ListFrom::Objects { template, offset } => match visible.first() {
            Some(&first) => {
                let offset = if first == template { offset } else { 0 };
                list_objects(cat, ex, principal, ObjectsPage { template: first, offset, visible, beyond, skipped: 0 })
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

/// A page of the concrete resources the caller may read; after the last come the model
/// objects, from `objects_start` when any may follow.
fn concrete_page(cat: &Catalogue, shown: Vec<&ResourceSpec>, offset: usize, objects_start: Option<String>) -> Value {
    let size = cat.settings.page_size;
    let total = shown.len();
    let items = shown.into_iter().map(|r| describe_resource(r, "uri")).collect();
    let mut result = page_of("resources", items, offset, size);
    if offset.saturating_add(size) >= total {
        match objects_start {
            Some(cursor) => result["nextCursor"] = json!(cursor),
            None => {
                result.as_object_mut().map(|r| r.remove("nextCursor"));
            }
        }
    }
    result
}

/// Whether the key and the endpoint let the caller reach this resource or template.
fn allowed(cat: &Catalogue, principal: &Principal, resource: &ResourceSpec) -> bool {
    principal.may_use(cat, &Item::resource(cat, resource))
}

/// Ask the host for one page of a model template's objects.
fn list_objects(cat: &Catalogue, ex: Exchange, principal: Principal, page: ObjectsPage) -> Output {
    let Some(source) = cat.resource_templates.get(page.template).and_then(|t| t.objects()) else {
        return host_error(&ex, &json!({"error": {"message": "the continuation named no model template"}}));
    };
    let limit = cat.settings.page_size.min(MAX_COMPLETIONS);
    let effect = Effect::ResourceObjects {
        source: source.to_json(),
        offset: page.offset as u64,
        limit: limit as u64,
        prefix: None,
    };
    wait(ex, principal, vec![effect.to_text()], Work::Resources(ResourcesWork::ListObjects(page)))
}

/// A page of a model template's objects answered: the page, or, for a model without
/// objects, the next model's page in the same request (a few at a time).
fn objects_answered(cat: &Catalogue, ex: Exchange, principal: Principal, page: ObjectsPage, answer: &Value) -> Output {
    let ok = answer.get("ok").cloned().unwrap_or(Value::Null);
    let Some(objects) = ok.get("objects").and_then(Value::as_array) else {
        return host_error(&ex, answer);
    };
    // The state came back through the host: a template it names must still be one.
    let Some(spec) = cat.resource_templates.get(page.template).filter(|t| t.objects().is_some()) else {
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
    let more = ok.get("more") == Some(&Value::Bool(true));
    let following = page
        .visible
        .iter()
        .copied()
        .find(|&t| t > page.template && cat.resource_templates.get(t).is_some_and(|t| t.objects().is_some()));
    if let (0, false, Some(next), true) = (count, more, following, page.skipped < MAX_EMPTY_SKIPS) {
        let skipped = page.skipped + 1;
        return list_objects(cat, ex, principal, ObjectsPage { template: next, offset: 0, skipped, ..page });
    }
    let mut result = json!({"resources": items});
    let next = if more {
        Some(objects_cursor(page.template, page.offset.saturating_add(count)))
    } else {
        following.or(page.beyond).map(|t| objects_cursor(t, 0))
    };
    if let Some(cursor) = next {
        result["nextCursor"] = json!(cursor);
    }
    Output::reply(cat, &ex, result)
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

/// The model templates a `resources/list` page from `start` asks the gates of.
fn template_window(cat: &Catalogue, start: usize) -> Vec<usize> {
    model_templates(cat, start).take(TEMPLATE_WINDOW).collect()
}

/// The places of the model templates (those listing objects) from place `start` on.
fn model_templates(cat: &Catalogue, start: usize) -> impl Iterator<Item = usize> + '_ {
    (start..cat.resource_templates.len()).filter(|&t| cat.resource_templates[t].objects().is_some())
}

/// A resource's entry in `resources/list`, or a template's (`uri_key` "uriTemplate") in
/// `resources/templates/list`.
pub(crate) fn describe_resource(r: &ResourceSpec, uri_key: &str) -> Value {
    let mut d = json!({ uri_key: r.uri, "name": r.name });
    for (key, value) in [("title", &r.title), ("description", &r.description), ("mimeType", &r.mime_type)] {
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
    use crate::protocol::testing::{many_models, many_models_facts, reply_to};

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
            let fast = cat.matching_template(uri).map(|(t, values)| (cat.resource_templates[t].uri.clone(), values));
            assert_eq!(fast, slow, "{uri}");
        }
        let matched = |uri| cat.matching_template(uri).map(|(t, _)| cat.resource_templates[t].uri.as_str());
        assert_eq!(matched("test://items/3"), Some("test://items/{id}"));
        assert_eq!(matched("test://items/3/p"), Some("test://items/{id}/{part}"));
        // Both match; the first declared wins, though the other's head is shorter.
        assert_eq!(matched("test://a/b"), Some("test://a/{x}"));
        assert_eq!(matched("django-mcp://model/many.Thing29/7"), Some("django-mcp://model/many.Thing29/{pk}"));
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

    #[test]
    fn a_resources_list_asks_the_gates_as_each_renders() {
        let mut facts = many_models_facts(20);
        facts["custom"]["resources"] = json!([
            {"uri": "test://open", "name": "open"},
            {"uri": "test://kept", "name": "kept", "permission": "library.view_book"},
        ]);
        let cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
        let last = model_templates(&cat, 0).last().unwrap();
        for (cursor, from) in [(Value::Null, 0), (json!(objects_cursor(last, 0)), last)] {
            let message = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/list", "params": {"cursor": cursor}});
            let input = json!({"message": message.to_string(), "context": {"principal": {"user_id": 1}}});
            let text = step(&cat, &input.to_string()).to_text();
            let window = template_window(&cat, from);
            let templates = window.iter().map(|&t| &cat.resource_templates[t]);
            let checks: Vec<String> =
                cat.resources.iter().chain(templates).map(|r| r.gate.to_json().to_string()).collect();
            let effect = format!(r#"{{"kind":"permissions","checks":[{}]}}"#, checks.join(","));
            assert!(text.starts_with(&format!(r#"{{"effects":[{effect}],"#)), "{text}");
        }
    }
}
