//! A Rust host for the django-mcp engine component (`engine.wasm`), on the `wasmtime` crate.
//!
//! It exists to prove the component is host-neutral: `tests/replay.rs` replays every
//! `tests/transcripts/*.transcript` through it byte for byte, and `benches/step.rs`
//! measures one crossing. Limits mirror the Django host (`host-python/django_mcp/engine.py`):
//! a fuel budget per call and a cap on linear memory; a trap discards the instance.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, Store, StoreLimits, StoreLimitsBuilder, Trap};

wasmtime::component::bindgen!({
    world: "engine-component",
    path: "../../wit",
});

pub use wasmtime::Result;

pub mod transcript;

/// Fuel for one step; a step that needs more is runaway code.
pub const STEP_FUEL: u64 = 2_000_000_000;
/// Fuel for instantiation and for deriving the catalogue from the facts.
pub const LOAD_FUEL: u64 = 20_000_000_000;
/// Linear memory one instance may grow to.
pub const MEMORY_LIMIT: usize = 256 * 1024 * 1024;

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `$DJANGO_MCP_ENGINE_WASM`, else `target/wasm32-unknown-unknown/release/django_mcp_engine.wasm`
/// under the workspace root.
pub fn default_wasm_path() -> PathBuf {
    match std::env::var_os("DJANGO_MCP_ENGINE_WASM") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join("target/wasm32-unknown-unknown/release/django_mcp_engine.wasm"),
    }
}

/// A guest log line, as the engine sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: u8,
    pub message: String,
}

/// Per-store state: the memory limiter and the guest's log lines.
pub struct HostState {
    limits: StoreLimits,
    /// Every line the guest logged since this store was made.
    pub logs: Vec<LogLine>,
    /// Also print each line to stderr (on by default; the bench turns it off).
    pub echo_logs: bool,
}

impl django_mcp::engine::host::Host for HostState {
    fn log(&mut self, level: u8, message: String) {
        if self.echo_logs {
            eprintln!("engine[{level}]: {message}");
        }
        self.logs.push(LogLine { level, message });
    }
}

/// The compiled component and a linker; cheap to clone, shared by every instance.
#[derive(Clone)]
pub struct CompiledEngine {
    engine: Engine,
    component: Component,
    linker: Arc<Linker<HostState>>,
}

impl CompiledEngine {
    /// Compile the component at [`default_wasm_path`].
    pub fn from_default_path() -> std::result::Result<Self, String> {
        Self::from_path(&default_wasm_path())
    }

    /// Compile the component at `path`; a missing file says how to build it.
    pub fn from_path(path: &Path) -> std::result::Result<Self, String> {
        let wasm = std::fs::read(path).map_err(|err| {
            format!(
                "cannot read the engine component {} ({err}).\n\
                 Build it first:  cargo build --release --locked --target wasm32-unknown-unknown \
                 -p django-mcp-engine\n\
                 (or point DJANGO_MCP_ENGINE_WASM at an engine.wasm)",
                path.display()
            )
        })?;
        Self::from_bytes(&wasm).map_err(|err| format!("{}: {err:?}", path.display()))
    }

    pub fn from_bytes(wasm: &[u8]) -> Result<Self> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let component = Component::new(&engine, wasm)?;
        let mut linker = Linker::<HostState>::new(&engine);
        EngineComponent::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
        Ok(Self { engine, component, linker: Arc::new(linker) })
    }

    /// A fresh store and instance (nothing loaded yet).
    pub fn instantiate(&self) -> Result<EngineInstance> {
        let state = HostState {
            limits: StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).build(),
            logs: Vec::new(),
            echo_logs: true,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_fuel(LOAD_FUEL)?; // instantiation runs guest start-up code too
        let bindings = EngineComponent::instantiate(&mut store, &self.component, &self.linker)?;
        Ok(EngineInstance { store, bindings })
    }
}

/// One store + instance. After a trap it is unusable: make another.
pub struct EngineInstance {
    store: Store<HostState>,
    bindings: EngineComponent,
}

impl EngineInstance {
    pub fn state(&self) -> &HostState {
        self.store.data()
    }

    pub fn state_mut(&mut self) -> &mut HostState {
        self.store.data_mut()
    }

    /// `load(facts)`: the outer `Err` is a trap (or another host-side failure), the inner
    /// result is the engine's own ok (warnings JSON) / err (why the facts were refused).
    pub fn load(&mut self, facts: &str) -> Result<std::result::Result<String, String>> {
        self.store.set_fuel(LOAD_FUEL)?;
        self.bindings.django_mcp_engine_engine().call_load(&mut self.store, facts)
    }

    /// `step(input)` with the per-step fuel budget; `Err` is a trap.
    pub fn step(&mut self, input: &str) -> Result<String> {
        self.store.set_fuel(STEP_FUEL)?;
        self.bindings.django_mcp_engine_engine().call_step(&mut self.store, input)
    }

    /// Fuel left from the last call's budget.
    pub fn fuel_left(&self) -> u64 {
        self.store.get_fuel().unwrap_or(0)
    }
}

/// The guest trap inside a failed call, if that is what it was.
pub fn trap_of(err: &wasmtime::Error) -> Option<Trap> {
    err.downcast_ref::<Trap>().copied()
}
