//! What the fuzz targets share: the realistic catalogue they step against, the shape every
//! step output must have (docs/engine-protocol.md), the host's loop over effect rounds, and
//! a mutator that changes JSON structurally where libFuzzer's byte flips would only break it.
//!
//! Conversation inputs (`inbound`, `effect_results`) are lines: the step `context` (JSON),
//! the client's message as it came, then one JSON array of effect results per round.
//! `seed_corpus.py` writes them from the recorded transcripts.

use std::sync::{Mutex, MutexGuard, OnceLock};

use django_mcp_engine::Engine;
use libfuzzer_sys::fuzzer_mutate;
use serde_json::{json, Map, Value};

/// The host gives up on a request after this many effect rounds (`MAX_ROUNDS` in
/// host-python/django_mcp/engine.py), so the engine must always finish within them.
pub const MAX_ROUNDS: usize = 8;

/// The facts the transcripts were recorded with, plus one custom item of each kind, a user
/// prompt and a resource model (`extra-facts.json`), so every effect kind is reachable.
/// Test hooks stay off: with them `debug/panic` is a crash that any input may ask for.
pub fn realistic_facts() -> String {
    let mut facts: Value =
        serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).expect("recorded facts are JSON");
    let extra: Value = serde_json::from_str(include_str!("../extra-facts.json")).expect("extra facts are JSON");
    for (key, value) in extra.as_object().expect("extra facts are an object") {
        facts[key] = value.clone();
    }
    facts["settings"]["test_hooks"] = json!(false);
    facts.to_string()
}

/// The engine loaded with the realistic facts, once per fuzzing process. A step may install
/// what it derived on first need (an admin's deferred forms), so it is lent one caller at a time.
pub fn engine() -> MutexGuard<'static, Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| Mutex::new(Engine::load(&realistic_facts()).expect("the realistic facts load").0));
    engine.lock().expect("a fuzzing process ends at its first panic, so the lock is never poisoned")
}

/// A step output that passed `check_output`.
pub enum Checked {
    /// `host_fault`: the engine refused the step input itself (not a client's request).
    Done { reply: Option<Value>, host_fault: bool },
    Effects { effects: Vec<Value>, state: String },
}

const OUTCOMES: [&str; 7] = ["allow", "deny", "out_of_scope", "rate_limited", "unauthenticated", "transport_error", "handler_error"];

/// Panics (a fuzzing crash) unless `output` is what docs/engine-protocol.md promises: a
/// JSON header line, `done` or `effects` + `state`, and after `done` the JSON-RPC reply.
/// The reply may span lines: the host's raw values are passed through with their spacing.
pub fn check_output(output: &str) -> Checked {
    let (header_text, reply_text) = match output.split_once('\n') {
        Some((header, reply)) => (header, Some(reply)),
        None => (output, None),
    };
    let header: Map<String, Value> =
        serde_json::from_str(header_text).unwrap_or_else(|e| panic!("the header is not a JSON object ({e}): {output}"));
    match (header.get("done"), header.get("effects"), header.get("state")) {
        (Some(done), None, None) => check_done(done, reply_text, output),
        (None, Some(Value::Array(effects)), Some(Value::String(state))) => {
            assert!(reply_text.is_none(), "effects come without a reply: {output}");
            assert!(!effects.is_empty(), "an effects output asks for at least one effect: {output}");
            for effect in effects {
                assert!(effect.get("kind").is_some_and(Value::is_string), "every effect has a kind: {output}");
            }
            assert!(serde_json::from_str::<Map<String, Value>>(state).is_ok(), "the state is a JSON object: {output}");
            assert!(header.get("notify").is_none_or(Value::is_object), "notify is an object: {output}");
            Checked::Effects { effects: effects.clone(), state: state.clone() }
        }
        _ => panic!("the header is neither done nor effects with a state: {output}"),
    }
}

fn check_done(done: &Value, reply_text: Option<&str>, output: &str) -> Checked {
    let status = done.get("http_status").and_then(Value::as_u64).unwrap_or_else(|| panic!("no http_status: {output}"));
    assert!((200..600).contains(&status), "http_status {status} is no HTTP status: {output}");
    let audit = done.get("audit").and_then(Value::as_object).unwrap_or_else(|| panic!("no audit: {output}"));
    let method = audit.get("method").and_then(Value::as_str).unwrap_or_else(|| panic!("the audit names no method: {output}"));
    let outcome = audit.get("outcome").and_then(Value::as_str).unwrap_or_default();
    assert!(OUTCOMES.contains(&outcome), "unknown audit outcome {outcome:?}: {output}");
    assert!(audit.get("target").is_none_or(|t| t.is_null() || t.is_string()), "audit target: {output}");
    assert!(audit.get("error_message").is_none_or(|m| m.is_null() || m.is_string()), "audit error_message: {output}");
    let audited_code = audit.get("error_code").filter(|c| !c.is_null());
    assert!(audited_code.is_none_or(Value::is_i64), "audit error_code: {output}");
    if let Some(headers) = done.get("headers") {
        let strings = headers.as_object().is_some_and(|h| h.values().all(Value::is_string));
        assert!(strings, "done.headers maps names to strings: {output}");
    }
    // Only notifications and client responses go unanswered (HTTP 202).
    assert_eq!(reply_text.is_none(), status == 202, "a reply exactly when the status is not 202: {output}");
    let reply = reply_text.map(|text| {
        let reply: Map<String, Value> = serde_json::from_str(text).unwrap_or_else(|e| panic!("the reply is not a JSON object ({e}): {output}"));
        assert_eq!(reply.get("jsonrpc"), Some(&json!("2.0")), "the reply is JSON-RPC 2.0: {output}");
        assert!(reply.contains_key("id"), "the reply has an id: {output}");
        match (reply.get("result"), reply.get("error")) {
            (Some(_), None) => assert!(audited_code.is_none(), "a result is audited without an error code: {output}"),
            (None, Some(error)) => {
                let code = error.get("code").filter(|c| c.is_i64()).unwrap_or_else(|| panic!("an error has an integer code: {output}"));
                assert!(error.get("message").is_some_and(Value::is_string), "an error has a message: {output}");
                assert_eq!(audited_code, Some(code), "the audit line carries the reply's error code: {output}");
            }
            _ => panic!("a reply has exactly one of result and error: {output}"),
        }
        Value::Object(reply)
    });
    Checked::Done { reply, host_fault: method == "<host>" }
}

/// One step through the engine, its output checked.
pub fn step(engine: &mut Engine, input: &str) -> Checked {
    check_output(&engine.step(input))
}

/// Carry a request on from `output` as the host does: `answer` gives the results for each
/// round (None: the input has no more to say). Every continuation resumes a state the
/// engine wrote, so it must never be refused as a host fault, and the request must finish
/// within the host's `MAX_ROUNDS`.
pub fn continue_rounds(engine: &mut Engine, mut output: Checked, mut answer: impl FnMut(usize, &[Value]) -> Option<Value>) -> Checked {
    for round in 0..MAX_ROUNDS {
        let Checked::Effects { effects, state } = &output else { return output };
        let Some(results) = answer(round, effects) else { return output };
        let resumed = step(engine, &json!({"resume": state, "results": results}).to_string());
        if let Checked::Done { host_fault: true, .. } = resumed {
            panic!("the engine refused its own state {state} with results {results}");
        }
        output = resumed;
    }
    assert!(matches!(output, Checked::Done { .. }), "the request needed more than {MAX_ROUNDS} effect rounds");
    output
}

/// Results a host that allows everything would give: every gate passes, every read finds
/// one object (or an empty page), every custom item answers with content.
pub fn permissive_results(effects: &[Value]) -> Value {
    let results: Vec<Value> = effects
        .iter()
        .map(|effect| match effect.get("kind").and_then(Value::as_str).unwrap_or_default() {
            "permissions" => {
                let checks = effect.get("checks").and_then(Value::as_array).map_or(0, Vec::len);
                json!({"ok": vec![true; checks]})
            }
            "authorize" => json!({"ok": true}),
            "admin.list" | "model.search" => json!({"ok": {"results": [{"id": 1}], "count": 1}}),
            "resource.objects" => json!({"ok": {"objects": [{"pk": 1, "label": "one"}], "more": false}}),
            "resource.file" => json!({"ok": {"mime_type": "text/plain", "size": 2, "text": "hi"}}),
            "custom.resource" => json!({"ok": {"contents": [{"uri": "x://y", "text": "hi"}]}}),
            "custom.prompt" => json!({"ok": {"messages": []}}),
            "custom.tool" => json!({"ok": {"content": [], "isError": false}}),
            "view.call" | "drf.call" => json!({"ok": {"status": 200, "headers": {}, "body": null}}),
            _ => json!({"ok": {"object": {"id": 1}, "deleted": true, "updated": 1}}),
        })
        .collect();
    Value::Array(results)
}

/// An input in the conversation line format.
pub struct Conversation<'a> {
    pub context: Value,
    pub message: &'a str,
    /// Effect results, one array per round, in order.
    pub rounds: Vec<Value>,
}

impl<'a> Conversation<'a> {
    /// None unless the first line is JSON and a message line follows; result lines that
    /// are not JSON arrays are left out (a step input with them is only a host fault).
    pub fn parse(text: &'a str) -> Option<Conversation<'a>> {
        let mut lines = text.split('\n');
        let context = serde_json::from_str(lines.next()?).ok()?;
        let message = lines.next()?;
        let rounds = lines.filter_map(|l| serde_json::from_str::<Value>(l).ok()).filter(Value::is_array).collect();
        Some(Conversation { context, message, rounds })
    }

    /// The first step's input, as the host builds it.
    pub fn step_input(&self) -> String {
        json!({"message": self.message, "context": self.context}).to_string()
    }

    /// The id the reply must echo: the message's, when it is a valid JSON-RPC id.
    pub fn request_id(&self) -> Option<Value> {
        let message: Map<String, Value> = serde_json::from_str(self.message).ok()?;
        message.get("id").filter(|id| id.is_string() || id.is_i64() || id.is_u64()).cloned()
    }
}

/// What a client's request is answered with: a result that is an object (a forged state
/// can make it anything, so `check_output` cannot ask this), and the request's own id when
/// it had a valid one, whatever went wrong (a host fault is about the step input, not the
/// request: it answers null).
pub fn check_answer(done: &Checked, expected_id: Option<Value>) {
    let Checked::Done { reply: Some(reply), host_fault: false } = done else { return };
    assert!(reply.get("result").is_none_or(Value::is_object), "a result is an object: {reply}");
    if let Some(expected) = expected_id {
        assert_eq!(reply["id"], expected, "the reply answers another id than the request's");
    }
}

/// A custom mutator: mostly a structural change to one JSON document of the input (the
/// whole input when `whole`, else one of its lines), sometimes libFuzzer's own byte-level
/// mutation, which also covers inputs that are not JSON at all.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32, whole: bool) -> usize {
    let mut rng = Rng::new(seed);
    if rng.below(3) == 0 {
        return fuzzer_mutate(data, size, max_size);
    }
    let Ok(text) = std::str::from_utf8(&data[..size]) else { return fuzzer_mutate(data, size, max_size) };
    let mut lines: Vec<String> = if whole { vec![text.to_string()] } else { text.split('\n').map(str::to_string).collect() };
    let json_lines: Vec<usize> = (0..lines.len()).filter(|&i| serde_json::from_str::<Value>(&lines[i]).is_ok()).collect();
    if json_lines.is_empty() {
        return fuzzer_mutate(data, size, max_size);
    }
    let chosen = json_lines[rng.below(json_lines.len())];
    let mut doc: Value = serde_json::from_str(&lines[chosen]).expect("checked above");
    mutate_json(&mut doc, &mut rng);
    lines[chosen] = doc.to_string();
    let mutated = lines.join("\n");
    if mutated.len() > max_size {
        return fuzzer_mutate(data, size, max_size);
    }
    data[..mutated.len()].copy_from_slice(mutated.as_bytes());
    mutated.len()
}

/// xorshift64*: deterministic from libFuzzer's seed, as a custom mutator must be.
struct Rng(u64);

impl Rng {
    fn new(seed: u32) -> Rng {
        Rng(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
    }
}

/// Boundary strings the engine parses or matches on: cursors (with offsets that overflow),
/// revisions, encoded headers, URI templates, regex syntax, effect error kinds.
const STRINGS: [&str; 28] = [
    "", "{pk}", "{", "o0", "o18446744073709551615", "m0.0", "m99.0", "m0.18446744073709551615", "2026-07-28", "2025-11-25",
    "=?base64?dG9vbHMvY2FsbA==?=", "=?base64?_-?=", "(", "a{9999}", "\\", "\u{0}", "\u{e9}", "-", "__all__", "input_required",
    "forbidden", "rate_limited", "not_found", "validation", "invalid", "too_large", "internal", "skipped",
];

fn interesting(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => json!(STRINGS[rng.below(STRINGS.len())]),
        1 => [json!(0), json!(-1), json!(1), json!(255), json!(65536), json!(4_294_967_296u64), json!(i64::MAX), json!(u64::MAX),
              json!(i64::MIN), json!(1.5), json!(1e300), json!(-0.0)][rng.below(12)]
            .clone(),
        2 => [Value::Null, json!(true), json!(false), json!([]), json!({})][rng.below(5)].clone(),
        _ => json!("x".repeat(1 << rng.below(12))),
    }
}

/// Change one node of `doc`: replace it with a boundary value, a copy of another node or one
/// of the document's keys (so references meet labels, ids and names that exist elsewhere),
/// or add, drop, repeat or swap one of its members.
fn mutate_json(doc: &mut Value, rng: &mut Rng) {
    let count = count_nodes(doc);
    let donor = nth_node_mut(doc, rng.below(count)).map(|n| n.clone()).unwrap_or(Value::Null);
    let key = object_key(doc, rng).unwrap_or_default();
    let Ok(node) = nth_node_mut(doc, rng.below(count)) else { return };
    match (rng.below(4), node) {
        (0, node) => *node = interesting(rng),
        (1, node) => *node = donor,
        (2, node) => *node = json!(key),
        (_, Value::Array(items)) if !items.is_empty() => {
            let (at, other) = (rng.below(items.len()), rng.below(items.len()));
            match rng.below(3) {
                0 => drop(items.remove(at)),
                1 => items.push(items[at].clone()),
                _ => items.swap(at, other),
            }
        }
        (_, Value::Object(members)) => {
            if members.is_empty() || rng.below(2) == 0 {
                members.insert(key, interesting(rng));
            } else {
                let name = members.keys().nth(rng.below(members.len())).cloned().unwrap_or_default();
                members.remove(&name);
            }
        }
        (_, node) => *node = interesting(rng),
    }
}

fn count_nodes(node: &Value) -> usize {
    1 + match node {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(members) => members.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Nodes are numbered in pre-order; `Err` carries how many remain after this subtree.
fn nth_node_mut(node: &mut Value, n: usize) -> Result<&mut Value, usize> {
    if n == 0 {
        return Ok(node);
    }
    let mut left = n - 1;
    let children: Box<dyn Iterator<Item = &mut Value>> = match node {
        Value::Array(items) => Box::new(items.iter_mut()),
        Value::Object(members) => Box::new(members.values_mut()),
        _ => return Err(left),
    };
    for child in children {
        match nth_node_mut(child, left) {
            Ok(found) => return Ok(found),
            Err(rest) => left = rest,
        }
    }
    Err(left)
}

/// A key of some object in `doc`, picked from the first that a random walk reaches.
fn object_key(doc: &Value, rng: &mut Rng) -> Option<String> {
    let mut node = doc;
    loop {
        match node {
            Value::Object(members) if !members.is_empty() => {
                let (key, value) = members.iter().nth(rng.below(members.len()))?;
                if rng.below(2) == 0 || !(value.is_object() || value.is_array()) {
                    return Some(key.clone());
                }
                node = value;
            }
            Value::Array(items) if !items.is_empty() => node = &items[rng.below(items.len())],
            _ => return None,
        }
    }
}
