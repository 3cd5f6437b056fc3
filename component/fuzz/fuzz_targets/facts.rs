//! `Engine::load` on arbitrary facts (and on structural mutations of the realistic facts):
//! it refuses what it cannot use and never panics; what it accepts must then answer the
//! listing requests, and a call of every tool it listed, with well-formed outputs.
#![no_main]

use django_mcp_engine::Engine;
use django_mcp_engine_fuzz::{check_answer, continue_rounds, mutate, permissive_results, step, Checked};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use serde_json::{json, Value};

/// Tools called per input: enough for the realistic catalogue, bounded for blown-up ones.
const MAX_CALLS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(facts) = std::str::from_utf8(data) else { return };
    let Ok((mut engine, _warnings)) = Engine::load(facts) else { return };
    let listed = request(&mut engine, 1, "tools/list", json!({}));
    for method in ["initialize", "resources/list", "resources/templates/list", "prompts/list"] {
        request(&mut engine, 2, method, json!({}));
    }
    let Checked::Done { reply: Some(reply), .. } = listed else { return };
    let names = reply.pointer("/result/tools").and_then(Value::as_array).cloned().unwrap_or_default();
    for name in names.iter().filter_map(|tool| tool.get("name")).take(MAX_CALLS) {
        request(&mut engine, 3, "tools/call", json!({"name": name, "arguments": {}}));
    }
});

/// One request from an authenticated caller whom every gate lets through, to its end.
fn request(engine: &mut Engine, id: u64, method: &str, params: Value) -> Checked {
    let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
    let context = json!({"transport": "http", "headers": {}, "principal": {"user_id": 1, "key_id": "fuzz", "allowed_tools": []}});
    let first = step(engine, &json!({"message": message, "context": context}).to_string());
    let done = continue_rounds(engine, first, |_, effects| Some(permissive_results(effects)));
    check_answer(&done, Some(json!(id)));
    done
}

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| { mutate(data, size, max_size, seed, true) });
