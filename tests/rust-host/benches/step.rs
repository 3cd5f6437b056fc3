//! `cargo bench -p django-mcp-rust-host`: the median cost of one crossing into the engine.
//!
//! Facts: `$DJANGO_MCP_BENCH_FACTS` if set, else `tests/transcripts/facts/library.json`,
//! else the largest facts file there, else `{"protocol":1}`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use django_mcp_rust_host::transcript::transcripts_dir;
use django_mcp_rust_host::CompiledEngine;

const PING: &str = r#"{"message":"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}","context":{"transport":"stdio","principal":null,"protocol_version_header":null}}"#;

fn facts() -> (String, String) {
    let chosen: Option<PathBuf> = std::env::var_os("DJANGO_MCP_BENCH_FACTS").map(PathBuf::from).or_else(|| {
        let dir = transcripts_dir().join("facts");
        let library = dir.join("library.json");
        if library.is_file() {
            return Some(library);
        }
        std::fs::read_dir(&dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .map(|e| e.path())
    });
    match chosen {
        Some(path) => {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), text)
        }
        None => ("(inline minimal facts)".to_string(), r#"{"protocol":1}"#.to_string()),
    }
}

struct Summary {
    median: Duration,
    p10: Duration,
    p90: Duration,
    n: usize,
}

fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Summary { median: at(0.5), p10: at(0.1), p90: at(0.9), n: samples.len() }
}

fn print(label: &str, s: &Summary) {
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{label:<34} median {:>10.1} µs   p10 {:>10.1} µs   p90 {:>10.1} µs   (n={})",
        us(s.median),
        us(s.p10),
        us(s.p90),
        s.n
    );
}

/// Run `f` until `budget` is spent (at least `min` and at most `max` samples).
fn sample(min: usize, max: usize, budget: Duration, mut f: impl FnMut() -> Duration) -> Vec<Duration> {
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < min || (samples.len() < max && start.elapsed() < budget) {
        samples.push(f());
    }
    samples
}

fn main() {
    // `cargo bench` passes `--bench`; a libtest-style filter argument is ignored.
    let started = Instant::now();
    let compiled = CompiledEngine::from_default_path().unwrap_or_else(|m| {
        eprintln!("{m}");
        std::process::exit(1)
    });
    println!("compile component (cranelift)        {:>10.1} ms", started.elapsed().as_secs_f64() * 1e3);
    let (facts_name, facts) = facts();
    println!("facts: {facts_name} ({} bytes)", facts.len());

    let instantiate = sample(20, 500, Duration::from_secs(3), || {
        let t = Instant::now();
        let instance = compiled.instantiate().expect("instantiate");
        let elapsed = t.elapsed();
        drop(instance);
        elapsed
    });

    let load = sample(10, 500, Duration::from_secs(5), || {
        let mut instance = compiled.instantiate().expect("instantiate");
        instance.state_mut().echo_logs = false;
        let t = Instant::now();
        let outcome = instance.load(&facts).expect("load trapped");
        let elapsed = t.elapsed();
        outcome.expect("facts refused");
        elapsed
    });

    let mut instance = compiled.instantiate().expect("instantiate");
    instance.state_mut().echo_logs = false;
    instance.load(&facts).expect("load trapped").expect("facts refused");
    let first = instance.step(PING).expect("ping trapped");
    assert!(first.starts_with("{\"done\":"), "unexpected ping output: {first}");
    for _ in 0..200 {
        instance.step(PING).expect("ping trapped");
    }
    let step = sample(1000, 20_000, Duration::from_secs(3), || {
        let t = Instant::now();
        let out = instance.step(PING).expect("ping trapped");
        let elapsed = t.elapsed();
        std::hint::black_box(out);
        elapsed
    });
    let step_fuel = django_mcp_rust_host::STEP_FUEL - instance.fuel_left();

    print("instantiate (fresh Store)", &summarise(instantiate));
    print("load(facts)", &summarise(load));
    print("step(ping)", &summarise(step));
    println!("fuel used by one ping step: {step_fuel}");
}
