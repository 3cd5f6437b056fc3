//! `prompts/get` (`prompts/list` is in `listing`): gated like tools; rendered here (admin
//! action and user prompts) or by the host (custom prompts).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::errors::{host_error, invalid_params, not_found, out_of_scope};
use super::gated::{authorize, host_answer, refused, wait, Answered};
use super::revisions::Stateless;
use super::toolset::Item;
use super::{input, parsed_result, Exchange, Output, Principal, Work};
use crate::derive::resources::{render_body, PromptSpec, Renderer};
use crate::derive::Catalogue;
use crate::seam::Effect;

#[derive(Serialize, Deserialize)]
#[serde(tag = "work", rename_all = "snake_case")]
pub(crate) enum PromptsWork {
    /// Waiting for the gate, and the host's messages unless they are already rendered.
    GetPrompt { rendered: Option<Value> },
}

/// `prompts/get`: the gate, and the messages rendered here or asked of the host.
pub(crate) fn get(
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
    let Some(name) = params.get("name").and_then(Value::as_str) else {
        return invalid_params(&ex, "Invalid params: name (the prompt's name) is required");
    };
    let Some(place) = cat.prompt_place(name) else {
        return not_found(&ex, "prompt", name);
    };
    let prompt = &cat.prompts[place];
    if let Some(why) = principal.refusal(cat, &Item::prompt(cat, prompt)) {
        return out_of_scope(&ex, "", &prompt.name, why);
    }
    let arguments = match prompt_arguments(prompt, params.get("arguments")) {
        Ok(a) => a,
        Err(why) => return invalid_params(&ex, &format!("Invalid params: {why}")),
    };
    let mut effects = vec![authorize(cat, None, cat.prompt_gates[place])];
    let rendered = render(prompt, &arguments);
    if rendered.is_none() {
        effects.push(Effect::CustomPrompt { name, arguments: &arguments, input: Some(client_input) }.to_text());
    }
    wait(ex, principal, effects, Work::Prompts(PromptsWork::GetPrompt { rendered }))
}

pub(crate) fn finish(cat: &Catalogue, ex: Exchange, work: PromptsWork, results: Vec<&RawValue>) -> Output {
    let gate = parsed_result(&results, 0);
    if let Some(out) = refused(&ex, &gate, None) {
        return out;
    }
    let PromptsWork::GetPrompt { rendered } = work;
    if let Some(rendered) = rendered {
        return Output::reply(cat, &ex, rendered);
    }
    match host_answer(cat, &ex, &parsed_result(&results, 1), Answered::Prompt) {
        Ok(body) if body.get("messages").is_some_and(Value::is_array) => Output::reply(cat, &ex, body),
        Ok(_) => host_error(&ex, &json!({"error": {"message": "the host's prompt had no messages"}})),
        Err(out) => out,
    }
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

/// A prompt's entry in `prompts/list`.
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
    use crate::protocol::testing::{many_models, reply_to};

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
}
