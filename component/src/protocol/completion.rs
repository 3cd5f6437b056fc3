//! `completion/complete`: the values of a prompt's argument or a resource template's
//! variable, gated like the item completed; choices known here, primary keys looked up by
//! the host (those the caller can see).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::errors::{host_error, invalid_params, out_of_scope};
use super::gated::{authorize, pk_text, refused, wait};
use super::toolset::Item;
use super::{parsed_result, Exchange, Output, Principal, Work};
use crate::derive::resources::{Reader, Source};
use crate::derive::Catalogue;
use crate::schema::fields::ModelIndex;
use crate::seam::Effect;

/// Completion answers carry at most this many values (the spec's limit); also the most
/// objects one `resources/list` page holds.
pub(crate) const MAX_COMPLETIONS: usize = 100;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum CompletionWork {
    /// Waiting for the gate; the values are known already.
    Complete { values: Vec<String> },
    /// Waiting for the gate and the host's objects.
    CompleteObjects,
}

/// What a completion completes: the prompt or template (`item`, by the name an allowlist
/// uses, and `scope`, what the key and the endpoint judge), its gate's place in
/// `Catalogue::gate_checks`, and the values or the host's lookup that answer it.
struct Completion<'a> {
    item: &'a str,
    scope: Item<'a>,
    gate: usize,
    answer: Answer,
}

enum Answer {
    Values(Vec<String>),
    /// Primary keys the host looks up (those the caller can see): the effect, as text.
    Objects(String),
}

/// The argument being completed: its name and what the client has typed of it.
struct Typed<'p> {
    name: &'p str,
    value: &'p str,
}

/// `completion/complete`: the gate of the item completed, and the host's lookup if any.
pub(crate) fn complete(cat: &Catalogue, ex: Exchange, params: &Map<String, Value>, principal: Principal) -> Output {
    let Completion { item, scope, gate, answer } = match completion(cat, params) {
        Ok(completion) => completion,
        Err(why) => return invalid_params(&ex, &format!("Invalid params: {why}")),
    };
    // The audit line names the prompt or template completed, as reads and gets do.
    let ex = Exchange { target: Some(item.to_string()), ..ex };
    if let Some(why) = principal.refusal(cat, &scope) {
        return out_of_scope(&ex, "", item, why);
    }
    let (effects, work) = match answer {
        Answer::Values(values) => (vec![authorize(cat, None, gate)], CompletionWork::Complete { values }),
        Answer::Objects(effect) => (vec![authorize(cat, None, gate), effect], CompletionWork::CompleteObjects),
    };
    wait(ex, principal, effects, Work::Completion(work))
}

fn completion<'a>(cat: &'a Catalogue, params: &Map<String, Value>) -> Result<Completion<'a>, String> {
    let reference = params.get("ref").and_then(Value::as_object).ok_or("ref is required")?;
    let argument = params.get("argument").and_then(Value::as_object).ok_or("argument is required")?;
    let name = argument.get("name").and_then(Value::as_str).ok_or("argument.name is required")?;
    let typed = Typed { name, value: argument.get("value").and_then(Value::as_str).unwrap_or("") };
    match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let prompt_name = reference.get("name").and_then(Value::as_str).ok_or("ref.name is required")?;
            prompt_completion(cat, prompt_name, &typed)
        }
        Some("ref/resource") => {
            let uri = reference.get("uri").and_then(Value::as_str).ok_or("ref.uri is required")?;
            template_completion(cat, uri, &typed)
        }
        _ => Err("ref.type must be ref/prompt or ref/resource".into()),
    }
}

/// A prompt's argument: its choices, or, for an action prompt's `pks`, the objects.
fn prompt_completion<'a>(cat: &'a Catalogue, prompt_name: &str, typed: &Typed) -> Result<Completion<'a>, String> {
    let place = cat.prompt_place(prompt_name).ok_or(format!("unknown prompt '{prompt_name}'"))?;
    let prompt = &cat.prompts[place];
    let name = typed.name;
    let arg = prompt
        .arguments
        .iter()
        .find(|a| a.name == name)
        .ok_or(format!("prompt '{prompt_name}' has no argument '{name}'"))?;
    let answer = match (&prompt.objects, name) {
        // `pks` is comma-separated: complete the last one.
        (Some(source), "pks") => objects(cat, source, typed.value.rsplit(',').next().unwrap_or("").trim()),
        _ => prefixed(&arg.choices, typed.value),
    };
    let scope = Item::prompt(cat, prompt);
    Ok(Completion { item: &prompt.name, scope, gate: cat.prompt_gates[place], answer })
}

/// A resource template's variable: a custom template's completions, or a model's objects.
fn template_completion<'a>(cat: &'a Catalogue, uri: &str, typed: &Typed) -> Result<Completion<'a>, String> {
    let place =
        cat.resource_templates.iter().position(|t| t.uri == uri).ok_or(format!("unknown resource template '{uri}'"))?;
    let template = &cat.resource_templates[place];
    let answer = match (&template.reader, template.objects()) {
        (Reader::Custom { completions }, _) => {
            prefixed(completions.get(typed.name).map_or(&[][..], Vec::as_slice), typed.value)
        }
        (_, Some(source)) if typed.name == "pk" => objects(cat, source, typed.value),
        _ => return Err(format!("resource template '{uri}' has no variable '{}'", typed.name)),
    };
    let scope = Item::resource(cat, template);
    Ok(Completion { item: &template.uri, scope, gate: cat.template_gates[place], answer })
}

/// The choices that start with what was typed.
fn prefixed(choices: &[String], typed: &str) -> Answer {
    Answer::Values(choices.iter().filter(|c| c.starts_with(typed)).cloned().collect())
}

/// The primary keys starting with `prefix` of the objects behind `source`, as the host looks
/// them up; a redacted primary key is never shown, so it is never offered either.
fn objects(cat: &Catalogue, source: &Source, prefix: &str) -> Answer {
    if pk_is_redacted(cat, source) {
        return Answer::Values(Vec::new());
    }
    let limit = MAX_COMPLETIONS as u64;
    Answer::Objects(
        Effect::ResourceObjects { source: source.to_json(), offset: 0, limit, prefix: Some(prefix) }.to_text(),
    )
}

/// Whether the primary key of the model behind `source` is a redacted field.
fn pk_is_redacted(cat: &Catalogue, source: &Source) -> bool {
    let model = match source {
        Source::Admin(id) => cat.admin_ids.iter().position(|a| a == id).map(|admin| cat.admin_model(admin)),
        Source::Model(label) => cat.model(label),
    };
    model.is_some_and(|m| cat.is_redacted(m, &m.pk))
}

pub(crate) fn finish(cat: &Catalogue, ex: Exchange, work: CompletionWork, results: Vec<&RawValue>) -> Output {
    let gate = parsed_result(&results, 0);
    if let Some(out) = refused(&ex, &gate, None) {
        return out;
    }
    match work {
        CompletionWork::Complete { values } => completed(cat, &ex, values),
        CompletionWork::CompleteObjects => {
            let answer = parsed_result(&results, 1);
            match answer.pointer("/ok/objects").and_then(Value::as_array) {
                Some(objects) => {
                    completed(cat, &ex, objects.iter().map(|o| pk_text(o.get("pk").unwrap_or(&Value::Null))).collect())
                }
                None => host_error(&ex, &answer),
            }
        }
    }
}

fn completed(cat: &Catalogue, ex: &Exchange, values: Vec<String>) -> Output {
    let total = values.len();
    let shown: Vec<String> = values.into_iter().take(MAX_COMPLETIONS).collect();
    Output::reply(cat, ex, json!({"completion": {"values": shown, "total": total, "hasMore": total > MAX_COMPLETIONS}}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::jsonrpc;
    use crate::protocol::testing::{many_models, many_models_facts, reply_to};

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
}
