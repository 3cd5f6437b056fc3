//! `Engine::step` on arbitrary input after loading the realistic facts: the input as a whole
//! step input (its parser meets any text), and read as a conversation (a context line, then
//! the client's message), carried to its end with a host that allows everything. Every
//! output is well-formed, replies echo the request's id, and each state resumes.
#![no_main]

use django_mcp_engine_fuzz::{check_answer, continue_rounds, engine, mutate, permissive_results, step, Conversation};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    step(&mut engine(), text);
    let Some(conversation) = Conversation::parse(text) else { return };
    let first = step(&mut engine(), &conversation.step_input());
    let done = continue_rounds(&mut engine(), first, |_, effects| Some(permissive_results(effects)));
    check_answer(&done, conversation.request_id());
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| { mutate(data, size, max_size, seed, false) });
