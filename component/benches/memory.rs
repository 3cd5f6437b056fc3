//! What the engine's heap holds, by project size: the facts' text, the peak while the catalogue
//! is derived from it, and what stays once it is loaded. A wasm instance's linear memory never
//! shrinks, so its resident size is the load's peak, not what stays.
//!
//! ```text
//! cargo bench -p django-mcp-engine --bench memory
//! ```
//!
//! Sizes are of the native build (64-bit pointers); the wasm32 build's are smaller.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use django_mcp_engine::Engine;

mod common;
use common::{library_facts, synthetic_facts};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
            PEAK.fetch_max(now, Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The facts as a host deferring the admins' forms sends them: none, each admin marked.
fn forms_deferred(facts: &str) -> String {
    let mut facts: serde_json::Value = serde_json::from_str(facts).expect("facts are JSON");
    for admin in facts["admins"].as_array_mut().into_iter().flatten() {
        let admin = admin.as_object_mut().expect("an admin is an object");
        admin.remove("forms");
        admin.insert("forms_deferred".into(), serde_json::Value::Bool(true));
    }
    facts.to_string()
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_048_576.0
}

fn main() {
    // `cargo bench` passes `--bench`; a filter, if any, names the projects to measure.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    println!("| project | facts | peak while loading | catalogue once loaded |");
    println!("|---|---|---|---|");
    let projects = [("library", 0), ("synthetic-10", 10), ("synthetic-100", 100), ("synthetic-500", 500)];
    for ((name, copies), deferred) in projects.into_iter().flat_map(|p| [(p, false), (p, true)]) {
        let name = if deferred { format!("{name}, forms deferred") } else { name.to_string() };
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let facts = if copies == 0 { library_facts() } else { synthetic_facts(copies) };
        let facts = if deferred { forms_deferred(&facts) } else { facts };
        let before = LIVE.load(Relaxed);
        PEAK.store(before, Relaxed);
        let (engine, _warnings) = Engine::load(&facts).expect("facts load");
        let (peak, loaded) = (PEAK.load(Relaxed) - before, LIVE.load(Relaxed) - before);
        println!("| {name} | {:.2} MB | {:.1} MB | {:.1} MB |", mb(facts.len()), mb(peak), mb(loaded));
        drop(engine);
    }
}
