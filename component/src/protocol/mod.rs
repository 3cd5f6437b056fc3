//! One step of a request: an inbound message, or a continuation with effect results.
//! No I/O here: the host does the work the effects describe and steps again.

pub(crate) mod completion;
pub(crate) mod discovery;
pub(crate) mod errors;
pub(crate) mod gated;
pub(crate) mod input;
pub mod jsonrpc;
pub(crate) mod listing;
pub(crate) mod paging;
pub(crate) mod prompts;
pub(crate) mod resources;
pub mod revisions;
pub(crate) mod tools;
pub mod toolset;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::derive::secrets::SecretsCrossed;
use crate::derive::selection::Selection;
use crate::derive::Catalogue;
use crate::seam::{AuditOutcome, HostErrorKind};
use jsonrpc::{Inbound, RpcError};
use revisions::Era;

/// Who is calling, as the host authenticated them, and what the key and the endpoint let
/// them reach (both must: they narrow as an intersection). `None` before authentication.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: Value,
    #[serde(default)]
    pub key_id: Option<String>,
    /// The key's allowlist of names and toolset patterns (`toolset`); empty means every item.
    #[serde(default)]
    pub allowed_tools: Vec<String>,
    /// The key reaches only read-only items.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
    /// The endpoint's toolset and read-only switch, when it was mounted with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<toolset::Scope>,
    #[serde(skip)]
    compiled: toolset::CompiledScopes,
}

impl Principal {
    /// Why the key or the endpoint keeps `item` out, if one does.
    pub(crate) fn refusal(&self, cat: &Catalogue, item: &toolset::Item) -> Option<toolset::Refusal> {
        use toolset::{Compiled, NarrowedBy, Refusal};
        let (key, endpoint) = self.compiled.get_or_init(|| {
            let endpoint = self.endpoint.as_ref().map(|e| Compiled::of(cat, &e.toolset, e.read_only));
            (Compiled::of(cat, &self.allowed_tools, self.read_only), endpoint)
        });
        let key = key.lets_through(item).err().map(|narrowed| Refusal { narrowed, by: NarrowedBy::Key });
        let endpoint = endpoint
            .as_ref()
            .and_then(|e| e.lets_through(item).err())
            .map(|narrowed| Refusal { narrowed, by: NarrowedBy::Endpoint });
        key.or(endpoint)
    }

    pub(crate) fn may_use(&self, cat: &Catalogue, item: &toolset::Item) -> bool {
        self.refusal(cat, item).is_none()
    }
}

#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    principal: Option<Principal>,
    #[serde(default)]
    transport: Transport,
    #[serde(default)]
    headers: revisions::Headers,
}

#[derive(Deserialize, Default, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Transport {
    #[default]
    Http,
    Stdio,
}

/// One step's input: an inbound message with its context, or a continuation. Effect
/// results stay raw JSON here: a page of rows is passed on into the reply, never rebuilt.
/// The message is the `message` string, or else the text that follows this object: a host
/// that sends it there passes the client's text as it came, never escaped (JSON escapes a
/// control character in six bytes), so a step's input stays the size of the message.
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
    /// The host asking where each tool comes from (`Catalogue::tool_sources`): no request.
    #[serde(default)]
    tool_sources: bool,
    /// The host refusing a message (`errors::Refusal`); the message it read, if it read one,
    /// is `message` (no text follows a refusal).
    #[serde(default)]
    refuse: Option<errors::Refusal>,
    /// The host asking which views to describe and serve (`Selection`), before it has facts.
    #[serde(default)]
    select_views: Option<Selection>,
    /// The host asking which secret each field path crosses (`SecretsCrossed`), before it
    /// has facts.
    #[serde(default)]
    secrets_crossed: Option<SecretsCrossed>,
}

/// Effect result `i` parsed, or `Null` when the host gave none (or not JSON). For results
/// that are small (gates, lists' answers); a work result that goes into a reply stays raw.
pub(crate) fn parsed_result(results: &[&RawValue], i: usize) -> Value {
    results.get(i).and_then(|r| serde_json::from_str(r.get()).ok()).unwrap_or(Value::Null)
}

/// The request being answered: what its reply and audit line need to know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exchange {
    pub id: Value,
    pub method: String,
    pub target: Option<String>,
    /// A 2026-07-28 request: its result carries `resultType`, server info and cache hints,
    /// and its errors their HTTP statuses.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stateless: bool,
}

impl Exchange {
    fn anonymous(method: &str) -> Exchange {
        Exchange { id: Value::Null, method: method.to_string(), target: None, stateless: false }
    }

    pub fn fail(&self, code: i64, message: impl Into<String>) -> RpcError {
        RpcError::new(self.id.clone(), code, message)
    }
}

/// A request waiting for effect results; travels through the host as `state`.
#[derive(Serialize, Deserialize)]
#[serde(from = "PendingFields")]
pub struct Pending {
    #[serde(flatten)]
    exchange: Exchange,
    principal: Principal,
    work: Work,
}

/// `Pending` read back from its state: the exchange's fields named one by one rather than
/// flattened, since a flattened struct is read by first copying every field of the state
/// (the arguments, a page's gates) into a buffer, and only then into their types.
#[derive(Deserialize)]
struct PendingFields {
    id: Value,
    method: String,
    target: Option<String>,
    #[serde(default)]
    stateless: bool,
    principal: Principal,
    work: Work,
}

impl From<PendingFields> for Pending {
    fn from(p: PendingFields) -> Pending {
        let exchange = Exchange { id: p.id, method: p.method, target: p.target, stateless: p.stateless };
        Pending { exchange, principal: p.principal, work: p.work }
    }
}

/// What a request waits on the host for.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Work {
    Tools(tools::ToolsWork),
    Resources(resources::ResourcesWork),
    Prompts(prompts::PromptsWork),
    Completion(completion::CompletionWork),
    List(listing::ListPage),
    Discovery(discovery::DiscoveryWork),
}

/// Each kind of work tried in turn, as an untagged enum is read, but from the work's own
/// text: the derived reading copies the whole work into a buffer first, then copies it again
/// for each kind it tries.
impl<'de> Deserialize<'de> for Work {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Work, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        let read = |text| -> serde_json::Result<Work> {
            let work = serde_json::from_str(text).map(Work::Tools);
            let work = work.or_else(|_| serde_json::from_str(text).map(Work::Resources));
            let work = work.or_else(|_| serde_json::from_str(text).map(Work::Prompts));
            let work = work.or_else(|_| serde_json::from_str(text).map(Work::Completion));
            let work = work.or_else(|_| serde_json::from_str(text).map(Work::List));
            work.or_else(|_| serde_json::from_str(text).map(Work::Discovery))
        };
        read(text).map_err(|_| serde::de::Error::custom("data did not match any variant of untagged enum Work"))
    }
}

/// What the audit line says about a finished request.
#[derive(Debug, Serialize)]
pub struct Audit {
    pub method: String,
    pub target: Option<String>,
    pub outcome: AuditOutcome,
    pub error_code: Option<i64>,
    pub error_message: Option<String>,
}

/// Why a request failed, in words the audit line may carry: the failure's kind, and the
/// argument paths it names.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: Cow<'static, str>,
    paths: Vec<String>,
}

impl Failure {
    pub(crate) fn new(kind: &'static str) -> Failure {
        Failure { kind: Cow::Borrowed(kind), paths: Vec::new() }
    }

    pub(crate) fn naming(kind: &'static str, paths: Vec<String>) -> Failure {
        Failure { kind: Cow::Borrowed(kind), paths }
    }

    /// A JSON-RPC error, by its code.
    fn of_rpc(code: i64) -> Failure {
        Failure::new(match code {
            jsonrpc::PARSE_ERROR => "parse_error",
            jsonrpc::INVALID_REQUEST => "invalid_request",
            jsonrpc::METHOD_NOT_FOUND => "method_not_found",
            jsonrpc::INVALID_PARAMS => "invalid_params",
            jsonrpc::INTERNAL_ERROR => "internal_error",
            jsonrpc::UNAUTHENTICATED => "unauthenticated",
            jsonrpc::FORBIDDEN => "forbidden",
            jsonrpc::OUT_OF_SCOPE => "out_of_scope",
            jsonrpc::RATE_LIMITED => "rate_limited",
            jsonrpc::HEADER_MISMATCH => "header_mismatch",
            jsonrpc::MISSING_CLIENT_CAPABILITY => "missing_client_capability",
            jsonrpc::UNSUPPORTED_VERSION => "unsupported_version",
            _ => "error",
        })
    }

    /// A host effect's `{"kind", "message", "fields"}` error: its kind if it is one the host
    /// sends (effects/__init__.py), and its fields as argument paths under `container`.
    pub(crate) fn of_host(err: &Value, container: &str) -> Failure {
        let kind = HostErrorKind::of(err).as_str();
        let paths = err.get("fields").and_then(Value::as_object).map(|f| field_paths(f, container)).unwrap_or_default();
        Failure::naming(kind, paths)
    }

    /// An HTTP answer outside 2xx from a view the tool called.
    pub(crate) fn http(status: u64) -> Failure {
        Failure { kind: Cow::Owned(format!("http_{status}")), paths: Vec::new() }
    }

    /// The audit line's `error_message`, and the only way the engine writes one: the
    /// failure's kind and the argument paths it names (`validation: fields.title,
    /// fields.pages`), never the message the client got. That message may quote what the
    /// caller sent (a pk, a form value, a repeated item) or what the project said about it,
    /// and an audit trail is kept longer and read by more people than a reply.
    pub(crate) fn audit_message(&self) -> String {
        if self.paths.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}: {}", self.kind, self.paths.join(", "))
        }
    }
}

/// The argument paths of a `field → messages` map (a form's or a serializer's errors) whose
/// fields sit under the argument `container` (`fields`, `body`; empty: the arguments
/// themselves). The form-wide `__all__` names the container.
pub(crate) fn field_paths(fields: &Map<String, Value>, container: &str) -> Vec<String> {
    fields
        .keys()
        .filter_map(|field| match (field.as_str(), container) {
            ("__all__", "") => None,
            ("__all__", _) => Some(container.to_string()),
            (_, "") => Some(field.clone()),
            _ => Some(format!("{container}.{field}")),
        })
        .collect()
}

pub enum Output {
    /// `reply` is the JSON-RPC response as JSON text. `needs_write`: the key's read-only
    /// switch refused it, so a credential that may write would be let through (an OAuth
    /// client may be asked to step up).
    Done { reply: Option<String>, http_status: u16, audit: Audit, retry_after: Option<u64>, needs_write: bool },
    /// `notify` says which notifications the host may send while it works (progress, logs).
    /// Each effect is JSON text (some are rendered once, at load).
    Effects { effects: Vec<String>, state: Pending, notify: Option<Value> },
    /// An answer to the host itself, not to a request: JSON text, sent as it is.
    Host(String),
    /// The step needs these deferred admins' forms first: `step` asks the host for them.
    NeedForms(Vec<usize>),
    /// `Effect::AdminForms` and the state holding the step to take again once they are in.
    AskForms { effect: String, state: String },
    /// The host's answer to `Effect::AdminForms`: installed by `step_installing`, which then
    /// takes `input` again.
    InstallForms { admins: Vec<usize>, answer: Value, input: String },
}

/// JSON text written as the inside of a JSON string, in the one pass that serialises it,
/// rather than serialised whole and then escaped as a copy. Only quotes and backslashes need
/// escaping: serde_json's text holds no control character (its strings escape them all).
struct QuotedJson(Vec<u8>);

impl std::io::Write for QuotedJson {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for chunk in buf.split_inclusive(|&b| b == b'"' || b == b'\\') {
            match chunk.split_last() {
                Some((&last, head)) if last == b'"' || last == b'\\' => {
                    self.0.extend_from_slice(head);
                    self.0.extend_from_slice(&[b'\\', last]);
                }
                _ => self.0.extend_from_slice(chunk),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The continuation state of `Effect::AdminForms`: the admins asked for and the step input
/// that needed them, taken again once they are installed.
#[derive(Serialize, Deserialize)]
struct FormsWait {
    forms: Vec<usize>,
    input: String,
}

impl Output {
    /// The step's output text: one JSON header line and, when there is a reply, the
    /// reply's JSON on the next line, so a host can send it on without parsing it.
    pub fn to_text(&self) -> String {
        match self {
            Output::Done { reply, http_status, audit, retry_after, needs_write } => {
                let mut done = json!({"http_status": http_status, "audit": audit});
                if let Some(seconds) = retry_after {
                    done["headers"] = json!({"Retry-After": seconds.to_string()});
                }
                if *needs_write {
                    done["needs_write"] = json!(true);
                }
                let header = json!({ "done": done });
                match reply {
                    Some(reply) => format!("{header}\n{reply}"),
                    None => header.to_string(),
                }
            }
            Output::Effects { effects, state, notify } => {
                let notify = notify.as_ref().map(|n| format!(",\"notify\":{n}")).unwrap_or_default();
                let head = format!("{{\"effects\":[{}]{notify},\"state\":\"", effects.join(","));
                let mut quoted = QuotedJson(head.into_bytes());
                serde_json::to_writer(&mut quoted, state).expect("pending state serialises");
                let mut text = String::from_utf8(quoted.0).expect("JSON text is UTF-8");
                text.push_str("\"}");
                text
            }
            Output::Host(text) => text.clone(),
            Output::AskForms { effect, state } => {
                format!("{{\"effects\":[{effect}],\"state\":{}}}", Value::String(state.clone()))
            }
            // Only `step_installing` can take these: a catalogue that cannot install is faulty.
            Output::NeedForms(_) | Output::InstallForms { .. } => {
                host_fault("admin forms asked of a catalogue that cannot install them".to_string()).to_text()
            }
        }
    }

    fn reply(cat: &Catalogue, ex: &Exchange, result: Value) -> Output {
        Output::reply_text(cat, ex, &result.to_string())
    }

    /// A success reply whose `result` is already JSON text.
    fn reply_text(cat: &Catalogue, ex: &Exchange, result: &str) -> Output {
        Output::reply_typed(cat, ex, result, "complete")
    }

    /// A reply of a 2026-07-28 `resultType` (`complete`, `input_required`).
    fn reply_typed(cat: &Catalogue, ex: &Exchange, result: &str, result_type: &str) -> Output {
        let reply = if ex.stateless {
            jsonrpc::result_text(&ex.id, &stateless_result(cat, &ex.method, result, result_type))
        } else {
            jsonrpc::result_text(&ex.id, result)
        };
        Output::Done {
            reply: Some(reply),
            http_status: 200,
            audit: Audit {
                method: ex.method.clone(),
                target: ex.target.clone(),
                outcome: AuditOutcome::Allow,
                error_code: None,
                error_message: None,
            },
            retry_after: None,
            needs_write: false,
        }
    }

    fn error(ex: &Exchange, error: RpcError) -> Output {
        let (outcome, http_status) = match error.code {
            jsonrpc::UNAUTHENTICATED => (AuditOutcome::Unauthenticated, 401),
            jsonrpc::FORBIDDEN => (AuditOutcome::Deny, 200),
            jsonrpc::OUT_OF_SCOPE => (AuditOutcome::OutOfScope, 200),
            jsonrpc::RATE_LIMITED => (AuditOutcome::RateLimited, 429),
            jsonrpc::PARSE_ERROR | jsonrpc::INVALID_REQUEST => (AuditOutcome::TransportError, 400),
            jsonrpc::HEADER_MISMATCH | jsonrpc::MISSING_CLIENT_CAPABILITY | jsonrpc::UNSUPPORTED_VERSION => {
                (AuditOutcome::TransportError, 400)
            }
            // 2026-07-28 gives these their HTTP statuses; handshake clients read 404 as a
            // lost session, so they keep 200.
            jsonrpc::INVALID_PARAMS if ex.stateless => (AuditOutcome::HandlerError, 400),
            jsonrpc::METHOD_NOT_FOUND if ex.stateless => (AuditOutcome::HandlerError, 404),
            _ => (AuditOutcome::HandlerError, 200),
        };
        let retry_after = match error.code {
            jsonrpc::RATE_LIMITED => error.data.as_ref().and_then(|d| d.get("retryAfter")).and_then(Value::as_u64),
            _ => None,
        };
        Output::Done {
            reply: Some(error.to_json().to_string()),
            http_status,
            audit: Audit {
                method: ex.method.clone(),
                target: ex.target.clone(),
                outcome,
                error_code: Some(error.code),
                error_message: Some(Failure::of_rpc(error.code).audit_message()),
            },
            retry_after,
            needs_write: false,
        }
    }

    fn accepted(method: &str) -> Output {
        Output::Done {
            reply: None,
            http_status: 202,
            audit: Audit {
                method: method.to_string(),
                target: None,
                outcome: AuditOutcome::Allow,
                error_code: None,
                error_message: None,
            },
            retry_after: None,
            needs_write: false,
        }
    }
}

/// A 2026-07-28 result: `resultType`, the server's identity, and cache hints where the
/// revision asks for them. Lists depend on the caller's permissions: private.
fn stateless_result(cat: &Catalogue, method: &str, result: &str, result_type: &str) -> String {
    let cache = match method {
        "server/discover" => ",\"cacheScope\":\"public\",\"ttlMs\":300000",
        "tools/list" | "prompts/list" | "resources/list" | "resources/templates/list" => {
            ",\"cacheScope\":\"private\",\"ttlMs\":60000"
        }
        "resources/read" => ",\"cacheScope\":\"private\",\"ttlMs\":0",
        _ => "",
    };
    let fields = format!(
        "\"_meta\":{{\"{}\":{}}}{cache},\"resultType\":\"{result_type}\"",
        revisions::META_SERVER_INFO,
        json!({"name": cat.server.name, "version": cat.server.version}),
    );
    let body = result.trim_start().strip_prefix('{').unwrap_or("}");
    if body.trim_start().starts_with('}') {
        format!("{{{fields}}}")
    } else {
        format!("{{{fields},{body}")
    }
}

/// One `step` on a catalogue that installs the admin forms the host answers with, then takes
/// the step that needed them again.
pub fn step_installing(cat: &mut Catalogue, input: &str) -> Output {
    let mut input = Cow::Borrowed(input);
    loop {
        match step(cat, &input) {
            Output::InstallForms { admins, answer, input: again } => {
                install_forms(cat, &admins, &answer);
                input = Cow::Owned(again);
            }
            out => return out,
        }
    }
}

/// Install the answer `{"ok": [forms | null, …]}` (one per admin asked for); an admin whose
/// forms did not come is left with its create and update tools unavailable.
fn install_forms(cat: &mut Catalogue, admins: &[usize], answer: &Value) {
    let given = answer.get("ok").and_then(Value::as_array);
    if given.is_none() {
        crate::log(40, &format!("admin forms not given: {answer}"));
    }
    for (k, &admin) in admins.iter().enumerate() {
        let forms = given.and_then(|g| g.get(k)).and_then(|f| crate::facts::FormsFacts::deserialize(f).ok());
        cat.install_forms(admin, forms);
    }
}

/// Entry point for one `step` call.
pub fn step(cat: &Catalogue, input: &str) -> Output {
    match step_once(cat, input) {
        Output::NeedForms(admins) => {
            let ids = admins.iter().filter_map(|&a| cat.admin_ids.get(a).map(String::as_str)).collect();
            let effect = crate::seam::Effect::AdminForms { admins: ids }.to_text();
            let wait = FormsWait { forms: admins, input: input.to_string() };
            Output::AskForms { effect, state: serde_json::to_string(&wait).expect("a forms wait serialises") }
        }
        out => out,
    }
}

fn step_once(cat: &Catalogue, input: &str) -> Output {
    let mut values = serde_json::Deserializer::from_str(input).into_iter::<StepInput>();
    let header = values.next();
    let following = &input[values.byte_offset()..];
    let input: StepInput = match header {
        Some(Ok(v)) => v,
        Some(Err(e)) => return host_fault(format!("step input is not valid: {e}")),
        None => return host_fault("step input is empty".to_string()),
    };
    if input.tool_sources {
        return Output::Host(cat.tool_sources().to_string());
    }
    if let Some(answered) = catalogue_free(&input) {
        return answered;
    }
    if let Some(state) = input.resume {
        return match serde_json::from_str::<Pending>(&state) {
            Ok(Pending { exchange, work: Work::Tools(work), .. }) => tools::finish(cat, exchange, work, input.results),
            Ok(Pending { exchange, principal, work: Work::Resources(work) }) => {
                resources::finish(cat, exchange, principal, work, input.results)
            }
            Ok(Pending { exchange, work: Work::Prompts(work), .. }) => {
                prompts::finish(cat, exchange, work, input.results)
            }
            Ok(Pending { exchange, work: Work::Completion(work), .. }) => {
                completion::finish(cat, exchange, work, input.results)
            }
            Ok(Pending { exchange, principal, work: Work::List(list) }) => {
                listing::answered(cat, exchange, principal, list, &parsed_result(&input.results, 0))
            }
            Ok(Pending { exchange, principal, work: Work::Discovery(work) }) => {
                discovery::answered(cat, exchange, principal, work, &parsed_result(&input.results, 0))
            }
            Err(e) => match serde_json::from_str::<FormsWait>(&state) {
                Ok(FormsWait { forms, input: again }) => {
                    Output::InstallForms { admins: forms, answer: parsed_result(&input.results, 0), input: again }
                }
                Err(_) => host_fault(format!("bad continuation state: {e}")),
            },
        };
    }
    let message = match (&input.message, &input.context) {
        (Some(message), _) => message.as_str(),
        (None, Some(_)) => following,
        (None, None) => return host_fault("step input has neither message nor resume".to_string()),
    };
    let context =
        input.context.unwrap_or(Context { principal: None, transport: Transport::Http, headers: Default::default() });
    inbound(cat, message, context)
}

/// A step that needs no catalogue (a refusal, the views' selection); `None` for any other.
pub fn catalogue_free_step(input: &str) -> Option<Output> {
    let input: StepInput = serde_json::Deserializer::from_str(input).into_iter().next()?.ok()?;
    catalogue_free(&input)
}

fn catalogue_free(input: &StepInput) -> Option<Output> {
    if let Some(selection) = &input.select_views {
        return Some(Output::Host(selection.answer().to_string()));
    }
    if let Some(question) = &input.secrets_crossed {
        return Some(Output::Host(question.answer().to_string()));
    }
    let refusal = input.refuse.as_ref()?;
    let transport = input.context.as_ref().map_or(Transport::Http, |c| c.transport);
    Some(errors::refuse(refusal, transport, input.message.as_deref()))
}

/// A host that speaks the protocol wrongly gets an internal error, never a panic.
fn host_fault(why: String) -> Output {
    crate::log(40, &format!("host protocol error: {why}"));
    Output::error(&Exchange::anonymous("<host>"), RpcError::new(Value::Null, jsonrpc::INTERNAL_ERROR, "Internal error"))
}

/// Methods 2026-07-28 removed: a stateless request for one is answered 404.
const REMOVED_IN_STATELESS: [&str; 5] =
    ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"];

fn inbound(cat: &Catalogue, message: &str, context: Context) -> Output {
    let (id, method, params) = match jsonrpc::parse(message) {
        Inbound::Request { id, method, params } => (id, method, params),
        Inbound::Notification { method } => return Output::accepted(&method),
        Inbound::ClientResponse => return Output::accepted("<response>"),
        Inbound::Invalid(e) => return Output::error(&Exchange::anonymous("<malformed>"), e),
    };
    let target = params.get("name").or_else(|| params.get("uri")).and_then(Value::as_str).map(str::to_string);
    let mut ex = Exchange { id, method, target, stateless: false };
    let era = match revisions::classify(
        &ex.id,
        &ex.method,
        &params,
        &context.headers,
        context.transport == Transport::Http,
    ) {
        Ok(era) => era,
        // Refusals of stateless requests are HTTP 400 (handshake ones are 400 anyway).
        Err(e) => return Output::error(&Exchange { stateless: true, ..ex }, e),
    };
    let stateless = match era {
        Era::Stateless(s) => Some(s),
        Era::Handshake => None,
    };
    ex.stateless = stateless.is_some();
    let method = ex.method.clone();
    match method.as_str() {
        m if stateless.is_some() && REMOVED_IN_STATELESS.contains(&m) => {
            let e = ex.fail(
                jsonrpc::METHOD_NOT_FOUND,
                format!("Method not found: '{m}' is not part of {}", revisions::STATELESS),
            );
            Output::error(&ex, e)
        }
        // Their capabilities say whether there are prompts: choice prompts may come with forms.
        "server/discover" | "initialize" if cat.prompts.is_empty() && prompts_wait_for_forms(cat) => {
            Output::NeedForms(cat.waiting_admins())
        }
        "server/discover" => Output::reply(cat, &ex, discover(cat)),
        "initialize" => Output::reply(cat, &ex, initialize(cat, &params)),
        "ping" => Output::reply(cat, &ex, json!({})),
        "logging/setLevel" => match params.get("level").and_then(Value::as_str) {
            Some(level) if revisions::LEVELS.contains(&level) => Output::reply(cat, &ex, json!({})),
            _ => {
                let e = ex.fail(
                    jsonrpc::INVALID_PARAMS,
                    format!("Invalid params: level must be one of {}", revisions::LEVELS.join(", ")),
                );
                Output::error(&ex, e)
            }
        },
        "debug/spin" | "debug/panic" | "debug/allocate" if cat.settings.test_hooks => debug_hook(cat, &ex, &params),
        "tools/list"
        | "tools/call"
        | "resources/list"
        | "resources/templates/list"
        | "resources/read"
        | "prompts/list"
        | "prompts/get"
        | "completion/complete" => {
            let Some(principal) = context.principal else {
                let e = ex.fail(jsonrpc::UNAUTHENTICATED, errors::UNAUTHENTICATED_MESSAGE);
                return Output::error(&ex, e);
            };
            let notify = notifications(&params, stateless.as_ref());
            if method == "tools/list" && cat.finder.is_some() {
                return discovery::list_tools(cat, ex, &params, principal);
            }
            if method == "tools/call"
                && params.get("name").and_then(Value::as_str).is_some_and(|n| discovery::is_meta_tool(cat, n))
            {
                return discovery::call(cat, ex, params, principal, stateless.as_ref(), notify);
            }
            let of_prompts = matches!(method.as_str(), "prompts/list" | "prompts/get")
                || (method == "completion/complete"
                    && params.get("ref").and_then(|r| r.get("type")).and_then(Value::as_str) == Some("ref/prompt"));
            if of_prompts && prompts_wait_for_forms(cat) {
                return Output::NeedForms(cat.waiting_admins());
            }
            if let Some(listed) = listing::Listed::of_method(&method) {
                return listing::begin(cat, ex, &params, principal, listed);
            }
            match method.as_str() {
                "tools/call" => tools::begin(cat, ex, params, principal, stateless.as_ref(), notify),
                "resources/list" => resources::list(cat, ex, &params, principal),
                "resources/read" => resources::read(cat, ex, &params, principal, stateless.as_ref()),
                "prompts/get" => prompts::get(cat, ex, &params, principal, stateless.as_ref()),
                _ => completion::complete(cat, ex, &params, principal),
            }
        }
        _ => {
            let e = ex
                .fail(jsonrpc::METHOD_NOT_FOUND, format!("Method not found: '{method}'"))
                .with_data(json!({"method": method}));
            Output::error(&ex, e)
        }
    }
}

/// Whether forms not yet installed may add prompts (the long choice lists of their tools):
/// prompts are listed, got and completed as the eager load has them, every form in.
fn prompts_wait_for_forms(cat: &Catalogue) -> bool {
    !cat.settings.resources_disabled && cat.has_waiting_forms()
}

/// The notifications a request may receive while the host works: progress when it gave a
/// `progressToken`; log messages at its `_meta` log level (2026-07-28: only when asked),
/// or from `info` up for handshake clients, whose `logging/setLevel` no session remembers.
fn notifications(params: &Map<String, Value>, stateless: Option<&revisions::Stateless>) -> Option<Value> {
    let progress_token = params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
        .cloned();
    let level = match stateless {
        Some(s) => s.log_level.clone(),
        None => Some("info".to_string()),
    };
    let log_levels = level.map(|l| revisions::levels_from(&l)).unwrap_or_default();
    if progress_token.is_none() && log_levels.is_empty() {
        return None;
    }
    Some(json!({"progress_token": progress_token, "log_levels": log_levels}))
}

/// What this server offers: declared only where the catalogue has something to offer.
fn capabilities(cat: &Catalogue) -> Value {
    let mut caps = json!({"tools": {"listChanged": false}});
    if cat.sends_logs {
        caps["logging"] = json!({});
    }
    if cat.offers_resources() {
        caps["resources"] = json!({"listChanged": false, "subscribe": false});
    }
    if cat.offers_prompts() {
        caps["prompts"] = json!({"listChanged": false});
    }
    if cat.offers_completions() {
        caps["completions"] = json!({});
    }
    caps
}

const INSTRUCTIONS: &str = "Tools derived from this Django project's admin, views and API. Every call runs \
                            with the Django permissions of the caller, as the admin's own pages do (its forms' \
                            validation, save_model, history); list tools page with page/page_size. A tool \
                            that calls a view answers {status, headers, body}: a JSON body parsed, HTML as \
                            readable text, redirects not followed.";

/// The instructions, with how to use the discovery meta-tools when discovery is on.
fn instructions(cat: &Catalogue) -> String {
    match cat.finder {
        Some(_) => format!("{INSTRUCTIONS}{}", discovery::INSTRUCTIONS),
        None => INSTRUCTIONS.to_string(),
    }
}

fn initialize(cat: &Catalogue, params: &Map<String, Value>) -> Value {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    json!({
        "protocolVersion": revisions::negotiate(requested),
        "capabilities": capabilities(cat),
        "serverInfo": {"name": cat.server.name, "title": "Django MCP", "version": cat.server.version},
        "instructions": instructions(cat),
    })
}

fn discover(cat: &Catalogue) -> Value {
    json!({
        "supportedVersions": revisions::ALL,
        "capabilities": capabilities(cat),
        "serverInfo": {"name": cat.server.name, "title": "Django MCP", "version": cat.server.version},
        "instructions": instructions(cat),
    })
}

/// Test-only methods that make the guest misbehave, so hosts can prove they survive it.
fn debug_hook(cat: &Catalogue, ex: &Exchange, params: &Map<String, Value>) -> Output {
    match ex.method.as_str() {
        "debug/panic" => panic!("debug/panic requested"),
        "debug/allocate" => {
            let bytes = params.get("bytes").and_then(Value::as_u64).unwrap_or(0) as usize;
            let block = vec![1u8; bytes];
            let pages = std::hint::black_box(&block).iter().step_by(65536).count();
            Output::reply(cat, ex, json!({"allocated": bytes, "pages": pages}))
        }
        _ => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
    }
}

/// Stepping whole requests in the protocol's tests.
#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{json, Value};

    use crate::derive::Catalogue;

    /// Steps one request (`message`, in `context`) to its JSON-RPC response, answering each
    /// effect of each round with `answer` (the effect → the `ok` value of its result).
    pub(crate) fn reply_to(
        cat: &Catalogue,
        message: Value,
        context: &Value,
        mut answer: impl FnMut(&Value) -> Value,
    ) -> Value {
        let mut input = json!({"message": message.to_string(), "context": context});
        loop {
            let text = super::step(cat, &input.to_string()).to_text();
            if let Some((_, reply)) = text.split_once('\n') {
                return serde_json::from_str(reply).unwrap();
            }
            let out: Value = serde_json::from_str(&text).unwrap();
            let results: Vec<Value> =
                out["effects"].as_array().unwrap().iter().map(|effect| json!({"ok": answer(effect)})).collect();
            input = json!({"resume": out["state"], "results": results});
        }
    }

    /// The library with `copies` more Book-like admins: each adds a model template and a
    /// file template, so there are far more model templates than a window.
    pub(crate) fn many_models(copies: usize) -> Catalogue {
        Catalogue::derive(serde_json::from_value(many_models_facts(copies)).unwrap()).unwrap().0
    }

    pub(crate) fn many_models_facts(copies: usize) -> Value {
        let mut facts: Value =
            serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        let model = facts["models"].as_array().unwrap().iter().find(|m| m["label"] == "library.Book").unwrap().clone();
        let admin = facts["admins"].as_array().unwrap().iter().find(|a| a["model"] == "library.Book").unwrap().clone();
        for i in 0..copies {
            let mut m = model.clone();
            m["label"] = json!(format!("many.Thing{i:02}"));
            m["app_label"] = json!("many");
            m["model_name"] = json!(format!("thing{i:02}"));
            facts["models"].as_array_mut().unwrap().push(m);
            let mut a = admin.clone();
            a["id"] = json!(format!("admin/many.thing{i:02}"));
            a["model"] = json!(format!("many.Thing{i:02}"));
            facts["admins"].as_array_mut().unwrap().push(a);
        }
        facts["settings"]["page_size"] = json!(3);
        facts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        let facts = serde_json::from_value(json!({"protocol": 1, "server": {"name": "t", "version": "1"}})).unwrap();
        Catalogue::derive(facts).unwrap().0
    }

    #[test]
    fn stateless_results_gain_their_fields_in_front() {
        let cat = catalogue();
        let empty = stateless_result(&cat, "ping", "{}", "complete");
        assert_eq!(
            serde_json::from_str::<Value>(&empty).unwrap(),
            json!({
                "_meta": {revisions::META_SERVER_INFO: {"name": "t", "version": "1"}}, "resultType": "complete",
            })
        );
        let listed: Value =
            serde_json::from_str(&stateless_result(&cat, "tools/list", r#"{"tools":[]}"#, "complete")).unwrap();
        assert_eq!((listed["cacheScope"].clone(), listed["tools"].clone()), (json!("private"), json!([])));
        let asked: Value =
            serde_json::from_str(&stateless_result(&cat, "tools/call", r#"{"inputRequests":{}}"#, "input_required"))
                .unwrap();
        assert_eq!(asked["resultType"], "input_required");
        assert!(asked.get("ttlMs").is_none());
    }

    #[test]
    fn the_state_is_quoted_as_a_json_string_would_be() {
        let arguments = json!({"q": "a \"quoted\" back\\slash, a\nnew line, \u{1} and é"});
        let work = tools::ToolsWork::CallTool { tool: "t".into(), arguments, invalid: None };
        let state =
            Pending { exchange: Exchange::anonymous("m"), principal: Principal::default(), work: Work::Tools(work) };
        let expected = Value::String(serde_json::to_string(&state).unwrap()).to_string();
        let text = Output::Effects { effects: vec!["{}".into()], state, notify: None }.to_text();
        assert_eq!(text, format!("{{\"effects\":[{{}}],\"state\":{expected}}}"));
    }

    #[test]
    fn a_message_may_follow_its_context_unescaped() {
        let cat = catalogue();
        let context = r#"{"context":{"transport":"http","principal":null}}"#;
        let ping = step(&cat, &format!(r#"{context}{{"jsonrpc":"2.0","id":7,"method":"ping"}}"#)).to_text();
        assert_eq!(ping.split_once('\n').unwrap().1, r#"{"id":7,"jsonrpc":"2.0","result":{}}"#);
        // Control characters are the client's text as sent: a parse error, not a host fault.
        let junk = step(&cat, &format!("{context}\u{1}\u{1}\u{1}")).to_text();
        assert!(junk.contains("-32700") && junk.contains("\"<malformed>\""), "{junk}");
        let empty = step(&cat, context).to_text();
        assert!(empty.contains("-32700") && empty.contains("\"<malformed>\""), "{empty}");
        let nothing = step(&cat, "{}").to_text();
        assert!(nothing.contains("\"<host>\""), "{nothing}");
    }

    #[test]
    fn the_views_selection_is_answered_with_or_without_a_catalogue() {
        let input = json!({"select_views": {"exclude": ["library:*"], "candidates": [
            {"name": "library:stats", "route": "library/stats/", "dotted": "library.views.stats", "gates": []},
            {"name": null, "route": "open/", "dotted": "odd.open", "gates": []},
        ]}})
        .to_string();
        let expected = json!([{"reason": "DJANGO_MCP_VIEW_EXCLUDE pattern 'library:*' matches it", "level": 20}, null]);
        let free: Value = serde_json::from_str(&catalogue_free_step(&input).unwrap().to_text()).unwrap();
        let loaded: Value = serde_json::from_str(&step(&catalogue(), &input).to_text()).unwrap();
        assert_eq!((free, loaded), (expected.clone(), expected));
    }

    #[test]
    fn the_secrets_paths_cross_are_answered_with_or_without_a_catalogue() {
        let input = json!({"secrets_crossed": {"user_model": "auth.User", "redact_fields": [], "paths": [
            ["library.Book.author", "library.Author.user", "auth.User.password"],
            ["library.Book.title"],
        ]}})
        .to_string();
        let expected = json!(["auth.User.password", null]);
        let free: Value = serde_json::from_str(&catalogue_free_step(&input).unwrap().to_text()).unwrap();
        let loaded: Value = serde_json::from_str(&step(&catalogue(), &input).to_text()).unwrap();
        assert_eq!((free, loaded), (expected.clone(), expected));
    }

    #[test]
    fn the_host_may_ask_where_each_tool_comes_from() {
        let facts = serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        let cat = Catalogue::derive(facts).unwrap().0;
        let sources: Vec<Value> = serde_json::from_str(&step(&cat, r#"{"tool_sources":true}"#).to_text()).unwrap();
        assert_eq!(sources.len(), cat.tools.len());
        let source_of = |name: &str| sources.iter().find(|s| s["name"] == name).cloned().unwrap();
        assert_eq!(
            source_of("list_library_book"),
            json!({"name": "list_library_book", "surface": "admin", "source": "library.Book"})
        );
        assert_eq!(source_of("search_library_book")["surface"], "search");
        for surface in ["admin", "search", "views", "drf"] {
            assert!(sources.iter().any(|s| s["surface"] == surface), "no {surface} tool in {sources:?}");
        }
        assert!(sources.iter().all(|s| s["surface"] == "custom" || s["source"].is_string()), "{sources:?}");
    }

    #[test]
    fn capabilities_name_only_what_the_catalogue_offers() {
        assert_eq!(capabilities(&catalogue()), json!({"tools": {"listChanged": false}}));
    }

    #[test]
    fn capabilities_are_decided_at_load_not_by_walking_the_tools() {
        let custom = json!({"name": "echo", "input_schema": {"type": "object"}});
        let facts = json!({"protocol": 1, "server": {"name": "t", "version": "1"}, "custom": {"tools": [custom]}});
        let mut cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
        assert_eq!(capabilities(&cat)["logging"], json!({}));
        // An `initialize` costs the same whatever the catalogue's size: it reads what the
        // load decided, so emptying the tools afterwards changes nothing.
        cat.tools.clear();
        assert_eq!(capabilities(&cat)["logging"], json!({}));
    }
}
