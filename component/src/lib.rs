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
            Ok(serde_json::to_string(&warnings).expect("strings serialise"))
        }

        fn step(input: String) -> String {
            LOADED.with(|slot| match slot.borrow_mut().as_mut() {
                Some(engine) => engine.step(&input),
                // A refusal and the views' selection need no catalogue: the host asks them of
                // an instance that never loads one.
                None => super::protocol::catalogue_free_step(&input)
                    .map_or_else(super::Engine::unloaded_step, |o| o.to_text()),
            })
        }
    }

    /// On wasm32-unknown-unknown a panic is a bare `unreachable` trap; say why first.
    fn install_panic_hook() {
        std::panic::set_hook(Box::new(|info| host::log(50, &info.to_string())));
    }

    export!(Component);
}
