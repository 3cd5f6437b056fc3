//! Continuations carrying the host's answers: a conversation's request is stepped, then each
//! round of effects is answered with the input's next results line (the last one again when
//! they run out), resuming the state the engine wrote, as the host does. Whatever the host
//! answers, outputs are well-formed, the state is never refused and the request finishes
//! within the host's round limit.
#![no_main]

use django_mcp_engine_fuzz::{check_answer, continue_rounds, engine, mutate, step, Conversation};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(conversation) = Conversation::parse(text) else { return };
    let rounds = &conversation.rounds;
    let first = step(&mut engine(), &conversation.step_input());
    let done = continue_rounds(&mut engine(), first, |round, _| rounds.get(round).or(rounds.last()).cloned());
    check_answer(&done, conversation.request_id());
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| { mutate(data, size, max_size, seed, false) });
