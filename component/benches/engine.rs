//! Native micro-benchmarks of the engine's hot paths (criterion):
//!
//! - `load`: facts JSON → catalogue (the demo library's facts, and synthetic ones with 100
//!   and 500 copies of its `Book` admin, as a big project has);
//! - `ping`: the smallest step, the floor of every step;
//! - `tools_list`: the first step of `tools/list` (the gates asked of the host) and the step
//!   that shapes the page once the host answered (every gate passing);
//! - `tools_call`: `tools/call` of the admin list tool through to its effects (argument
//!   validation, the planned `admin.list`), and shaping a host's page of 50 rows into the reply;
//!   the same for retrieve, and for an admin action on 50 pks.
//! - `discovery`: at 500 copies with `DJANGO_MCP_DISCOVERY` on, the load (its index built)
//!   beside the load without it, and `find_tools`' two steps (ranked, the gates of its best
//!   matches asked; the answer shaped) and `tools/list`'s count past the threshold.
//!
//! ```text
//! cargo bench -p django-mcp-engine --bench engine            # everything
//! cargo bench -p django-mcp-engine --bench engine -- tools_list
//! ```
//!
//! What a step costs from Python on top of this (the wasm boundary, wasmtime-py) is measured
//! by `bench/sidebyside/crossing.py`, which steps the same messages through `engine.wasm`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use django_mcp_engine::Engine;
use serde_json::{json, Value};

mod common;
use common::{library_facts, synthetic_facts};

const PRINCIPAL: &str = r#"{"transport":"http","principal":{"user_id":1,"key_id":"bench-key-0000000000000000","allowed_tools":[]},"headers":{}}"#;

/// The same facts with discovery `mode` (`off`, `auto`).
fn with_discovery(facts: &str, mode: &str) -> String {
    let mut facts: Value = serde_json::from_str(facts).expect("facts");
    facts["settings"]["discovery"] = json!(mode);
    facts.to_string()
}

fn message(rpc: Value) -> String {
    format!(r#"{{"message":{},"context":{PRINCIPAL}}}"#, json!(rpc.to_string()))
}

fn header(output: &str) -> Value {
    serde_json::from_str(output.lines().next().expect("a header line")).expect("header JSON")
}

/// The continuation of a step that asked for effects, with `results` as the host's answers.
fn resume(output: &str, results: Value) -> String {
    let state = header(output)["state"].clone();
    assert!(state.is_string(), "expected effects, got {output}");
    json!({"resume": state, "results": results}).to_string()
}

fn book_rows(n: usize) -> Value {
    let rows: Vec<Value> = (1..=n)
        .map(|i| {
            json!({"title": format!("The Curious Machines, Volume {i}"), "author": i % 7 + 1, "status": "published",
                        "price": format!("{}.49", 10 + i % 30), "published": format!("199{}-01-18", i % 10),
                        "since_2000": i % 2 == 0})
        })
        .collect();
    Value::Array(rows)
}

fn bench_load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(20);
    for (name, facts) in
        [("library", library_facts()), ("synthetic-100", synthetic_facts(100)), ("synthetic-500", synthetic_facts(500))]
    {
        // The catalogue lives as long as the process: dropping it is not part of the cost.
        group.bench_function(name, |b| b.iter_with_large_drop(|| Engine::load(black_box(&facts)).expect("facts load")));
    }
    group.finish();
}

fn bench_ping(c: &mut Criterion) {
    let (mut engine, _) = Engine::load(&library_facts()).unwrap();
    let ping = r#"{"message":"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}","context":{}}"#;
    c.bench_function("ping", |b| b.iter(|| engine.step(black_box(ping))));
}

fn bench_tools_list(c: &mut Criterion) {
    let mut group = c.benchmark_group("tools_list");
    for (name, facts) in
        [("library", library_facts()), ("synthetic-100", synthetic_facts(100)), ("synthetic-500", synthetic_facts(500))]
    {
        let (mut engine, _) = Engine::load(&facts).unwrap();
        let list = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
        let asked = engine.step(&list);
        let checks = header(&asked)["effects"][0]["checks"].as_array().map_or(0, Vec::len);
        let answered = resume(&asked, json!([{"ok": vec![true; checks]}]));
        let page = engine.step(&answered);
        assert!(page.lines().nth(1).is_some_and(|l| l.contains("\"tools\"")), "no page: {page}");
        group.bench_function(format!("{name}/gates ({checks})"), |b| b.iter(|| engine.step(black_box(&list))));
        group.bench_function(format!("{name}/page"), |b| b.iter(|| engine.step(black_box(&answered))));
    }
    group.finish();
}

fn bench_tools_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("tools_call");
    let (mut engine, _) = Engine::load(&library_facts()).unwrap();

    let list = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": "list_library_book", "arguments": {"page_size": 50, "ordering": "-price,title"}}}));
    let planned = engine.step(&list);
    assert!(header(&planned)["effects"][1]["kind"] == "admin.list", "{planned}");
    let page = resume(&planned, json!([{"ok": true}, {"ok": {"results": book_rows(50), "count": 10000}}]));
    assert!(engine.step(&page).contains("structuredContent"));
    group.bench_function("admin list/effect", |b| b.iter(|| engine.step(black_box(&list))));
    group.bench_function("admin list/shape 50 rows", |b| b.iter(|| engine.step(black_box(&page))));

    let get = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "get_library_book", "arguments": {"pk": 7}}}));
    let planned = engine.step(&get);
    let object = json!({"object": {"id": 7, "title": "The Analytical Engines, Volume 7", "slug": "book-07", "summary": "",
                                   "status": "draft", "pages": 80, "price": "9.99", "rating": null, "in_print": true,
                                   "published": null, "isbn": "6d8be7d0-2dd4-5b96-bdcb-0bdf3c49d96c", "author": 1,
                                   "cover": "covers/book-07.png", "metadata": {"edition": 1}, "reading_time": "P0DT01H00M00S",
                                   "website": "https://example.com/books/book-07", "tags": [1, 3]}});
    let answered = resume(&planned, json!([{"ok": true}, {"ok": object}]));
    assert!(engine.step(&answered).contains("structuredContent"));
    group.bench_function("retrieve/effect", |b| b.iter(|| engine.step(black_box(&get))));
    group.bench_function("retrieve/shape", |b| b.iter(|| engine.step(black_box(&answered))));

    let pks: Vec<u64> = (1..=50).collect();
    let act = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "mark_published_library_book", "arguments": {"pks": pks}}}));
    let planned = engine.step(&act);
    assert!(header(&planned)["effects"][1]["kind"] == "admin.action", "{planned}");
    let done =
        resume(&planned, json!([{"ok": true}, {"ok": {"updated": 50, "message": "50 book(s) marked as published."}}]));
    assert!(engine.step(&done).contains("structuredContent"));
    group.bench_function("action 50 pks/effect", |b| b.iter(|| engine.step(black_box(&act))));
    group.bench_function("action 50 pks/shape", |b| b.iter(|| engine.step(black_box(&done))));

    // A fresh message per iteration, as a server sees them (nothing cached by identity).
    group.bench_function("admin list/effect (new text)", |b| {
        b.iter_batched(|| list.clone(), |m| engine.step(&m), BatchSize::SmallInput)
    });
    group.finish();
}

fn bench_discovery(c: &mut Criterion) {
    let mut group = c.benchmark_group("discovery");
    let facts = synthetic_facts(500);
    for mode in ["off", "auto"] {
        let facts = with_discovery(&facts, mode);
        group.sample_size(20);
        group.bench_function(format!("synthetic-500/load ({mode})"), |b| {
            b.iter_with_large_drop(|| Engine::load(black_box(&facts)).expect("facts load"))
        });
    }
    group.sample_size(100);
    let (mut engine, _) = Engine::load(&with_discovery(&facts, "auto")).unwrap();
    let find = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": "find_tools", "arguments": {"query": "add a tag to this book", "limit": 10}}}));
    let asked = engine.step(&find);
    let checks = header(&asked)["effects"][0]["checks"].as_array().map_or(0, Vec::len);
    let answered = resume(&asked, json!([{"ok": vec![true; checks]}]));
    assert!(engine.step(&answered).contains("structuredContent"), "no matches");
    group.bench_function(format!("synthetic-500/find_tools gates ({checks})"), |b| {
        b.iter(|| engine.step(black_box(&find)))
    });
    group.bench_function("synthetic-500/find_tools answer", |b| b.iter(|| engine.step(black_box(&answered))));
    let list = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
    let counting = engine.step(&list);
    let checks = header(&counting)["effects"][0]["checks"].as_array().map_or(0, Vec::len);
    let counted = resume(&counting, json!([{"ok": vec![true; checks]}]));
    assert!(engine.step(&counted).contains("find_tools"), "no meta-tools");
    group.bench_function(format!("synthetic-500/tools_list count ({checks})"), |b| {
        b.iter(|| engine.step(black_box(&list)))
    });
    group.bench_function("synthetic-500/tools_list meta-tools", |b| b.iter(|| engine.step(black_box(&counted))));
    group.finish();
}

criterion_group!(benches, bench_load, bench_ping, bench_tools_list, bench_tools_call, bench_discovery);
criterion_main!(benches);
