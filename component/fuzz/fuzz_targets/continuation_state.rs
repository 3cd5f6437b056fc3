//! Forged `state` values: the input's first line is the state a continuation carries, the
//! second (optional) its results. `state` only ever travels through the host, but a host
//! that garbles it must get an internal error, never a trap; and once the engine answers
//! with a state of its own, that state must resume.
#![no_main]

use django_mcp_engine_fuzz::{continue_rounds, engine, mutate, permissive_results, step};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (state, results) = text.split_once('\n').unwrap_or((text, "[]"));
    let results = serde_json::from_str::<Value>(results).ok().filter(Value::is_array).unwrap_or_else(|| json!([]));
    let first = step(&mut engine(), &json!({"resume": state, "results": results}).to_string());
    continue_rounds(&mut engine(), first, |_, effects| Some(permissive_results(effects)));
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| { mutate(data, size, max_size, seed, false) });
