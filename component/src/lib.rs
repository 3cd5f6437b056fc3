//! The django-mcp engine: MCP protocol, schema derivation and the admin mapping rules,
//! with no I/O. `lib.rs` holds only the WIT glue; see docs/ARCHITECTURE.md for the codemap.

// An `Output` (and a `Result` refusing with one) is built once per step and moved to the
// host: boxing their large variants would add an allocation to every step for nothing.
#![allow(clippy::large_enum_variant, clippy::result_large_err)]

pub mod derive;
pub mod facts;
pub mod protocol;
pub mod schema;
pub mod seam;

use derive::Catalogue;

/// A loaded catalogue, ready to step requests.
pub struct Engine {
    catalogue: Catalogue,
}

impl Engine {
    /// Derive the catalogue from the host's facts; the warnings name what was skipped.
    pub fn load(facts: &str) -> Result<(Engine, Vec<String>), String> {
        Self::derive(Self::parse(facts)?)
    }

    fn parse(facts: &str) -> Result<facts::Facts, String> {
        serde_json::from_str(facts).map_err(|e| format!("facts are not valid: {e}"))
    }

    fn derive(facts: facts::Facts) -> Result<(Engine, Vec<String>), String> {
        let (catalogue, warnings) = Catalogue::derive(facts)?;
        Ok((Engine { catalogue }, warnings))
    }

    /// One step (docs/engine-protocol.md): the output is JSON text.
    /// Forms the step needs and the host gives are installed in the catalogue.
    pub fn step(&mut self, input: &str) -> String {
        protocol::step_installing(&mut self.catalogue, input).to_text()
    }

    /// Answer for a step taken before any facts were loaded.
    pub fn unloaded_step() -> String {
        let error = protocol::jsonrpc::RpcError::new(
            serde_json::Value::Null,
            protocol::jsonrpc::INTERNAL_ERROR,
            "Internal error",
        );
        let header = serde_json::json!({"done": {"http_status": 500, "audit": {
            "method": "<host>", "target": null, "outcome": seam::AuditOutcome::HandlerError,
            "error_code": error.code, "error_message": protocol::Failure::new("used_before_load").audit_message(),
        }}});
        format!("{header}\n{}", error.to_json())
    }
}

/// Send a line to the host's log (Python logging levels). Natively, stderr.
pub fn log(level: u8, message: &str) {
    #[cfg(target_arch = "wasm32")]
    component::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[engine {level}] {message}");
}

#[cfg(target_arch = "wasm32")]
mod component {
    use std::cell::RefCell;

    wit_bindgen::generate!({ world: "engine-component", path: "../wit" });

    pub use django_mcp::engine::host;
    use exports::django_mcp::engine::engine::Guest;

    thread_local! {
        static LOADED: RefCell<Option<super::Engine>> = const { RefCell::new(None) };
    }

    struct Component;

    impl Guest for Component {
        fn load(facts: String) -> Result<String, String> {
            install_panic_hook();
            // The text is released before deriving: a wasm instance's memory never shrinks,
            // so the load's peak (parsed facts and catalogue, not also the text) stays resident.
            let parsed = super::Engine::parse(&facts)?;
            drop(facts);
            let (engine, warnings) = super::Engine::derive(parsed)?;
            LOADED.with(|slot| *slot.borrow_mut() = Some(engine));
            #[cfg(feature = "mem-stats")]
            stats::report("load");
            Ok(serde_json::to_string(&warnings).expect("strings serialise"))
        }

        fn step(input: String) -> String {
            let output = LOADED.with(|slot| match slot.borrow_mut().as_mut() {
                Some(engine) => engine.step(&input),
                // A refusal and the views' selection need no catalogue: the host asks them of
                // an instance that never loads one.
                None => super::protocol::catalogue_free_step(&input)
                    .map_or_else(super::Engine::unloaded_step, |o| o.to_text()),
            });
            #[cfg(feature = "mem-stats")]
            stats::report("step");
            output
        }
    }

    /// On wasm32-unknown-unknown a panic is a bare `unreachable` trap; say why first.
    fn install_panic_hook() {
        std::panic::set_hook(Box::new(|info| host::log(50, &info.to_string())));
    }

    export!(Component);

    /// The `mem-stats` feature (measurement builds only): dlmalloc, counted.
    #[cfg(feature = "mem-stats")]
    mod stats {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

        struct Counting;

        static LIVE: AtomicUsize = AtomicUsize::new(0);
        static PEAK: AtomicUsize = AtomicUsize::new(0);
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        static CHUNKS: AtomicUsize = AtomicUsize::new(0);
        static CHUNKS_PEAK: AtomicUsize = AtomicUsize::new(0);

        /// What dlmalloc takes for `size` bytes on wasm32: a word of header, 8-aligned, 16 at least.
        fn chunk(size: usize) -> usize {
            ((size + 4 + 7) & !7).max(16)
        }

        fn add(size: usize) {
            PEAK.fetch_max(LIVE.fetch_add(size, Relaxed) + size, Relaxed);
            let c = chunk(size);
            CHUNKS_PEAK.fetch_max(CHUNKS.fetch_add(c, Relaxed) + c, Relaxed);
        }

        fn sub(size: usize) {
            LIVE.fetch_sub(size, Relaxed);
            CHUNKS.fetch_sub(chunk(size), Relaxed);
        }

        // SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                add(layout.size());
                COUNT.fetch_add(1, Relaxed);
                unsafe { System.alloc(layout) }
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                sub(layout.size());
                COUNT.fetch_sub(1, Relaxed);
                unsafe { System.dealloc(ptr, layout) }
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                sub(layout.size());
                add(new_size);
                unsafe { System.realloc(ptr, layout, new_size) }
            }
        }

        #[global_allocator]
        static ALLOCATOR: Counting = Counting;

        extern "C" {
            // Where the linker put the heap's start: after the stack and the static data.
            static __heap_base: u8;
        }

        /// One line to the host's log: linear memory, live bytes, the peak since the last line.
        pub fn report(after: &str) {
            let pages = core::arch::wasm32::memory_size(0);
            let (live, peak) = (LIVE.load(Relaxed), PEAK.swap(LIVE.load(Relaxed), Relaxed));
            let (chunks, chunks_peak) = (CHUNKS.load(Relaxed), CHUNKS_PEAK.swap(CHUNKS.load(Relaxed), Relaxed));
            let (count, heap_base) = (COUNT.load(Relaxed), unsafe { &__heap_base as *const u8 as usize });
            super::host::log(
                20,
                &format!(
                    "mem-stats after {after}: memory {} bytes, heap from {heap_base}, live {live} in {count} \
                     blocks ({chunks} with dlmalloc's headers), peak {peak} ({chunks_peak})",
                    pages * 65536
                ),
            );
        }
    }
}
