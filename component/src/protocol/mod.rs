//! One step of a request: an inbound message, or a continuation with effect results.
//! No I/O here: the host does the work the effects describe and steps again.

pub mod jsonrpc;
pub mod revisions;
pub(crate) mod tools;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::derive::Catalogue;
use jsonrpc::{Inbound, RpcError};

/// Who is calling, as the host authenticated them. `None` before authentication.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Value,
    #[serde(default)]
    pub key_id: Option<String>,
    /// The key's allowlist of tool names; empty means every tool.
    #[serde(default)]
    pub allowed_tools: Vec<String>,
}

impl Principal {
    pub fn may_use(&self, names: &[&str]) -> bool {
        self.allowed_tools.is_empty() || names.iter().any(|n| self.allowed_tools.iter().any(|a| a == n))
    }
}

#[derive(Debug, Deserialize)]
struct Context {
    #[serde(default)]
    principal: Option<Principal>,
    #[serde(default)]
    protocol_version_header: Option<String>,
}

/// One step's input: an inbound message with its context, or a continuation. Effect
/// results stay raw JSON here: a page of rows is passed on into the reply, never rebuilt.
#[derive(Deserialize)]
struct StepInput<'a> {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    context: Option<Context>,
    #[serde(default)]
    resume: Option<String>,
    #[serde(default, borrow)]
    results: Vec<&'a RawValue>,
}

/// A request waiting for effect results; travels through the host as `state`.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    id: Value,
    method: String,
    target: Option<String>,
    principal: Principal,
    work: tools::Work,
}

/// What the audit line says about a finished request.
#[derive(Debug, Serialize)]
pub struct Audit {
    pub method: String,
    pub target: Option<String>,
    pub outcome: &'static str,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

pub enum Output {
    /// `reply` is the JSON-RPC response as JSON text.
    Done { reply: Option<String>, http_status: u16, audit: Audit },
    Effects { effects: Vec<Value>, state: Pending },
}

impl Output {
    /// The step's output text: one JSON header line and, when there is a reply, the
    /// reply's JSON on the next line, so a host can send it on without parsing it.
    pub fn to_text(&self) -> String {
        match self {
            Output::Done { reply, http_status, audit } => {
                let header = json!({"done": {"http_status": http_status, "audit": audit}});
                match reply {
                    Some(reply) => format!("{header}\n{reply}"),
                    None => header.to_string(),
                }
            }
            Output::Effects { effects, state } => json!({
                "effects": effects,
                "state": serde_json::to_string(state).expect("pending state serialises"),
            })
            .to_string(),
        }
    }

    fn reply(id: &Value, method: &str, target: Option<String>, result: Value) -> Output {
        Output::reply_text(id, method, target, &result.to_string())
    }

    /// A success reply whose `result` is already JSON text.
    fn reply_text(id: &Value, method: &str, target: Option<String>, result: &str) -> Output {
        Output::Done {
            reply: Some(jsonrpc::result_text(id, result)),
            http_status: 200,
            audit: Audit { method: method.to_string(), target, outcome: "allow", error_code: None, error_message: None },
        }
    }

    fn error(method: &str, target: Option<String>, error: RpcError) -> Output {
        let (outcome, http_status) = match error.code {
            jsonrpc::UNAUTHENTICATED => ("unauthenticated", 401),
            jsonrpc::FORBIDDEN => ("deny", 200),
            jsonrpc::OUT_OF_SCOPE => ("out_of_scope", 200),
            jsonrpc::PARSE_ERROR | jsonrpc::INVALID_REQUEST => ("transport_error", 400),
            _ => ("handler_error", 200),
        };
        Output::Done {
            reply: Some(error.to_json().to_string()),
            http_status,
            audit: Audit {
                method: method.to_string(),
                target,
                outcome,
                error_code: Some(error.code),
                error_message: Some(error.message.clone()),
            },
        }
    }

    fn accepted(method: &str) -> Output {
        Output::Done {
            reply: None,
            http_status: 202,
            audit: Audit { method: method.to_string(), target: None, outcome: "allow", error_code: None, error_message: None },
        }
    }
}

/// Entry point for one `step` call.
pub fn step(cat: &Catalogue, input: &str) -> Output {
    let input: StepInput = match serde_json::from_str(input) {
        Ok(v) => v,
        Err(e) => return host_fault(format!("step input is not valid: {e}")),
    };
    if let Some(state) = input.resume {
        return match serde_json::from_str::<Pending>(&state) {
            Ok(pending) => tools::finish(cat, pending, input.results),
            Err(e) => host_fault(format!("bad continuation state: {e}")),
        };
    }
    let Some(message) = input.message else {
        return host_fault("step input has neither message nor resume".to_string());
    };
    let context = input.context.unwrap_or(Context { principal: None, protocol_version_header: None });
    inbound(cat, &message, context)
}

/// A host that speaks the protocol wrongly gets an internal error, never a panic.
fn host_fault(why: String) -> Output {
    crate::log(40, &format!("host protocol error: {why}"));
    Output::error("<host>", None, RpcError::new(Value::Null, jsonrpc::INTERNAL_ERROR, "Internal error"))
}

fn inbound(cat: &Catalogue, message: &str, context: Context) -> Output {
    let (id, method, params) = match jsonrpc::parse(message) {
        Inbound::Request { id, method, params } => (id, method, params),
        Inbound::Notification { method } => return Output::accepted(&method),
        Inbound::ClientResponse => return Output::accepted("<response>"),
        Inbound::Invalid(e) => return Output::error("<malformed>", None, e),
    };
    let target = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str).map(str::to_string);
    if method != "initialize" {
        if let Some(header) = context.protocol_version_header.as_deref() {
            if !revisions::is_supported(header) {
                let e = RpcError::new(id, jsonrpc::INVALID_REQUEST, format!(
                    "Invalid Request: unsupported MCP-Protocol-Version {header:?}; supported: {}",
                    revisions::HANDSHAKE.join(", ")
                ));
                return Output::error(&method, target, e);
            }
        }
    }
    match method.as_str() {
        "initialize" => Output::reply(&id, &method, target, initialize(cat, &params)),
        "ping" => Output::reply(&id, &method, target, json!({})),
        "debug/spin" | "debug/panic" | "debug/allocate" if cat.settings.test_hooks => debug_hook(&id, &method, &params),
        "tools/list" | "tools/call" => {
            let Some(principal) = context.principal else {
                let e = RpcError::new(id, jsonrpc::UNAUTHENTICATED, "unauthenticated: send Authorization: Bearer <key>");
                return Output::error(&method, target, e);
            };
            tools::begin(cat, id, &method, target, params, principal)
        }
        _ => {
            let e = RpcError::new(id, jsonrpc::METHOD_NOT_FOUND, format!("Method not found: '{method}'"))
                .with_data(json!({"method": method}));
            Output::error(&method, target, e)
        }
    }
}

fn initialize(cat: &Catalogue, params: &Map<String, Value>) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    json!({
        "protocolVersion": revisions::negotiate(requested),
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": cat.server.name, "title": "Django MCP", "version": cat.server.version},
        "instructions": "Tools derived from this Django project's admin. Every call runs with the \
                         Django permissions of the key's user; list tools page with page/page_size.",
    })
}

/// Test-only methods that make the guest misbehave, so hosts can prove they survive it.
fn debug_hook(id: &Value, method: &str, params: &Map<String, Value>) -> Output {
    match method {
        "debug/panic" => panic!("debug/panic requested"),
        "debug/allocate" => {
            let bytes = params.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize;
            let block = vec![1u8; bytes];
            let pages = std::hint::black_box(&block).iter().step_by(65536).count();
            Output::reply(id, method, None, json!({"allocated": bytes, "pages": pages}))
        }
        _ => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
    }
}
