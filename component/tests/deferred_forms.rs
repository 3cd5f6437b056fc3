//! Admin forms deferred by the facts (`forms_deferred`) are asked for when a step first needs
//! them, and everything a client is told is what the eager load tells it, byte for byte.

use std::collections::HashMap;

use django_mcp_engine::Engine;
use serde_json::{json, Value};

/// The library facts, and a long choice list (a choice prompt's) on the book's add form.
fn library(discovery: &str) -> Value {
    let mut facts: Value = serde_json::from_str(include_str!("../../tests/transcripts/facts/library.json")).unwrap();
    facts["settings"]["discovery"] = json!(discovery);
    facts["settings"]["page_size"] = json!(7);
    let book = facts["admins"].as_array_mut().unwrap().iter_mut().find(|a| a["id"] == "admin/library.book").unwrap();
    let zones: Vec<Value> = (0..60).map(|i| json!([format!("z{i}"), format!("Zone {i}")])).collect();
    book["forms"]["add"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "zone", "kind": "ChoiceField", "label": "Zone", "choices": zones}));
    facts
}

fn thirdparty() -> Value {
    serde_json::from_str(include_str!("../../tests/oracle/thirdparty-facts.json")).unwrap()
}

/// The facts with every admin's forms left out and deferred, and those forms by admin id.
fn deferred(facts: &Value) -> (Value, HashMap<String, Value>) {
    let mut facts = facts.clone();
    let mut forms = HashMap::new();
    for admin in facts["admins"].as_array_mut().unwrap() {
        let admin = admin.as_object_mut().unwrap();
        forms.insert(admin["id"].as_str().unwrap().to_string(), admin.remove("forms").unwrap_or(json!({})));
        admin.insert("forms_deferred".into(), json!(true));
    }
    (facts, forms)
}

/// A host: every gate passes, every work effect succeeds; forms come from `forms`. Returns
/// what the engine said (forms requests apart) and how many admins' forms it asked for.
fn converse(engine: &mut Engine, message: &Value, forms: &HashMap<String, Value>) -> (Vec<String>, usize) {
    let context = json!({"transport": "http", "principal": {"user_id": 1, "allowed_tools": []}});
    let mut input = json!({"message": message.to_string(), "context": context}).to_string();
    let (mut said, mut asked) = (Vec::new(), 0);
    loop {
        let out = engine.step(&input);
        let header: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        let Some(effects) = header.get("effects").and_then(Value::as_array) else {
            said.push(out);
            return (said, asked);
        };
        let results: Vec<Value> = effects
            .iter()
            .map(|effect| match effect["kind"].as_str().unwrap() {
                "admin.forms" => {
                    let admins = effect["admins"].as_array().unwrap();
                    asked += admins.len();
                    json!({"ok": admins.iter().map(|a| forms[a.as_str().unwrap()].clone()).collect::<Vec<_>>()})
                }
                "permissions" => {
                    json!({"ok": effect["checks"].as_array().unwrap().iter().map(|_| true).collect::<Vec<_>>()})
                }
                "authorize" => json!({"ok": true}),
                _ => json!({"ok": {"object": {"id": 1}}}),
            })
            .collect();
        if !effects.iter().any(|e| e["kind"] == "admin.forms") {
            said.push(out);
        }
        input = json!({"resume": header["state"], "results": results}).to_string();
    }
}

fn request(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
}

/// Every page of `tools/list`, then `messages`: what a client is told, both ways.
fn same_replies(facts: &Value, messages: &[Value]) -> usize {
    let (lazy_facts, forms) = deferred(facts);
    let (mut eager, _) = Engine::load(&facts.to_string()).unwrap();
    let (mut lazy, _) = Engine::load(&lazy_facts.to_string()).unwrap();
    let mut asked = 0;
    let mut cursor = Value::Null;
    loop {
        let list = request("tools/list", json!({"cursor": cursor}));
        let (told, _) = converse(&mut eager, &list, &HashMap::new());
        let (lazily_told, n) = converse(&mut lazy, &list, &forms);
        assert_eq!(lazily_told, told);
        asked += n;
        let reply: Value = serde_json::from_str(told.last().unwrap().lines().nth(1).unwrap()).unwrap();
        cursor = reply["result"].get("nextCursor").cloned().unwrap_or(Value::Null);
        if cursor.is_null() {
            break;
        }
    }
    for message in messages {
        let (told, _) = converse(&mut eager, message, &HashMap::new());
        let (lazily_told, n) = converse(&mut lazy, message, &forms);
        assert_eq!(lazily_told, told, "{message}");
        asked += n;
    }
    asked
}

#[test]
fn deferred_forms_answer_as_eager_ones() {
    let messages = [
        request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        ),
        request("prompts/list", json!({})),
        request("prompts/get", json!({"name": "create_library_book_zone_choices", "arguments": {"value": "z1"}})),
        request("tools/call", json!({"name": "create_library_book", "arguments": {"title": "T", "zone": "z7"}})),
        request("tools/call", json!({"name": "create_library_book", "arguments": {"zone": "nowhere"}})),
        request(
            "tools/call",
            json!({"name": "update_library_author", "arguments": {"pk": 1, "fields": {"name": "N"}}}),
        ),
    ];
    let asked = same_replies(&library("off"), &messages);
    // Each admin's forms are asked for once: the engine keeps them.
    assert_eq!(asked, 5);
    let discovery = [
        request("tools/call", json!({"name": "find_tools", "arguments": {"query": "create a book"}})),
        request(
            "tools/call",
            json!({"name": "describe_tools", "arguments": {"names": ["create_library_book", "update_auth_user"]}}),
        ),
        request(
            "tools/call",
            json!({"name": "call_tool", "arguments": {"name": "update_library_tag", "arguments": {"pk": 1, "fields": {"name": "x"}}}}),
        ),
    ];
    same_replies(&library("always"), &discovery);
    same_replies(&thirdparty(), &messages[..2]);
}

#[test]
fn a_step_asks_only_for_the_forms_it_needs() {
    let (facts, forms) = deferred(&library("off"));
    let (mut engine, _) = Engine::load(&facts.to_string()).unwrap();
    let delete = request("tools/call", json!({"name": "delete_library_book", "arguments": {"pk": 1}}));
    assert_eq!(converse(&mut engine, &delete, &forms).1, 0);
    let update =
        request("tools/call", json!({"name": "update_library_book", "arguments": {"pk": 1, "fields": {"title": "x"}}}));
    assert_eq!(converse(&mut engine, &update, &forms).1, 1);
    assert_eq!(converse(&mut engine, &update, &forms).1, 0);
}

#[test]
fn a_form_that_could_not_be_built_is_offered_to_nobody() {
    let (facts, mut forms) = deferred(&library("off"));
    forms.insert("admin/library.book".into(), json!({"add": null, "change": "add"}));
    let (mut engine, _) = Engine::load(&facts.to_string()).unwrap();
    let mut names = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let (told, _) = converse(&mut engine, &request("tools/list", json!({"cursor": cursor})), &forms);
        let reply: Value = serde_json::from_str(told.last().unwrap().lines().nth(1).unwrap()).unwrap();
        names.extend(
            reply["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()),
        );
        cursor = reply["result"].get("nextCursor").cloned().unwrap_or(Value::Null);
        if cursor.is_null() {
            break;
        }
    }
    assert!(names.contains(&"list_library_book".to_string()));
    assert!(!names.iter().any(|n| n == "create_library_book" || n == "update_library_book"), "{names:?}");
    let call = request("tools/call", json!({"name": "create_library_book", "arguments": {}}));
    let (told, _) = converse(&mut engine, &call, &forms);
    let reply: Value = serde_json::from_str(told[0].lines().nth(1).unwrap()).unwrap();
    assert_eq!(reply["error"]["code"], json!(-32602));
    assert!(reply["error"]["message"].as_str().unwrap().contains("its admin form could not be built"), "{reply}");
}
