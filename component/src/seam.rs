//! The seam between the engine and its host, in types. The engine decides; the host reads
//! Django and carries out what it is asked:
//!
//! - [`Effect`]: what the engine asks the host to do, one JSON object each, tagged by `kind`.
//!   The host answers each with `{"ok": …}` or `{"error": {"kind", "message", "fields"?}}`.
//! - [`HostErrorKind`]: the kinds of error a host answers an effect with.
//! - [`AuditOutcome`]: what an audit line says of a finished request.
//!
//! The host's mirror of this vocabulary is `django_mcp/seam.py`; a kind added here is added
//! there. Effects borrow from the catalogue and the request: each is serialised at once.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A request for the host to act, with everything it needs and nothing it must decide.
#[derive(Serialize)]
#[serde(tag = "kind")]
pub enum Effect<'a> {
    /// Does the caller pass every one of `checks` (gates, as rendered at load in
    /// `Catalogue::gate_checks`)?
    /// `tool` names the tool whose rate limit the call counts against. Answers `{"ok": true}`
    /// or an error (`forbidden`, `rate_limited`).
    #[serde(rename = "authorize")]
    Authorize {
        #[serde(skip_serializing_if = "Option::is_none")]
        tool: Option<&'a str>,
        checks: Vec<&'a RawValue>,
    },
    /// Which of `checks` does the caller pass? Answers `{"ok": [bool, …]}` in their order.
    #[serde(rename = "permissions")]
    Permissions { checks: Vec<&'a RawValue> },
    /// The add and change forms of deferred admins (`forms_deferred` in the facts), by id.
    /// Answers `{"ok": [forms, …]}` in their order, each as the facts' `forms` (or null).
    #[serde(rename = "admin.forms")]
    AdminForms { admins: Vec<&'a str> },
    /// A changelist page through the ModelAdmin.
    #[serde(rename = "admin.list")]
    AdminList {
        admin: &'a str,
        columns: Vec<Column<'a>>,
        /// The columns, search fields and field paths the host may use in clear; it masks
        /// or leaves out anything else.
        cleared: &'a [String],
        q: Option<&'a Value>,
        filters: Vec<Value>,
        ordering: Vec<String>,
        page: u64,
        page_size: u64,
    },
    #[serde(rename = "admin.retrieve")]
    AdminRetrieve { admin: &'a str, pk: Option<&'a Value>, fields: &'a [String], masked: &'a [String] },
    #[serde(rename = "admin.create")]
    AdminCreate { admin: &'a str, data: &'a Value, fields: &'a [String], masked: &'a [String] },
    #[serde(rename = "admin.update")]
    AdminUpdate {
        admin: &'a str,
        pk: Option<&'a Value>,
        data: Option<&'a Value>,
        fields: &'a [String],
        masked: &'a [String],
    },
    #[serde(rename = "admin.delete")]
    AdminDelete { admin: &'a str, pk: Option<&'a Value> },
    #[serde(rename = "admin.action")]
    AdminAction { admin: &'a str, action: &'a str, pks: Option<&'a Value> },
    /// A `DJANGO_MCP_MODEL_SEARCH` tool's query, through `admin`'s queryset when there is one.
    #[serde(rename = "model.search")]
    ModelSearch {
        model: &'a str,
        admin: Option<&'a str>,
        q: Option<&'a Value>,
        search_fields: &'a [String],
        filters: Vec<Value>,
        ordering: Vec<String>,
        page: u64,
        page_size: u64,
        fields: &'a [String],
        masked: &'a [String],
    },
    /// A routed view called as an HTTP request would reach it; when `atomic`, in a
    /// transaction rolled back on an exception or an answer from `rollback_from` up.
    #[serde(rename = "view.call")]
    ViewCall {
        view: &'a str,
        method: String,
        path: Value,
        query: Option<&'a Value>,
        body: Option<&'a Value>,
        atomic: bool,
        rollback_from: u16,
        /// The object keys masked at any depth in a JSON body.
        masked: &'a [String],
    },
    /// A DRF handler called through DRF's own dispatch; `atomic` and `rollback_from` as for
    /// a view.
    #[serde(rename = "drf.call")]
    DrfCall {
        view: &'a str,
        handler: &'a str,
        method: String,
        path: Value,
        query: Value,
        body: Option<&'a Value>,
        atomic: bool,
        rollback_from: u16,
        masked: &'a [String],
    },
    /// A custom tool's handler.
    #[serde(rename = "custom.tool")]
    CustomTool {
        tool: &'a str,
        arguments: &'a Value,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        input: Option<ClientInput>,
    },
    /// A custom resource's reader.
    #[serde(rename = "custom.resource")]
    CustomResource {
        uri: &'a str,
        template: &'a str,
        variables: &'a Map<String, Value>,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        input: Option<ClientInput>,
    },
    /// A custom prompt's renderer.
    #[serde(rename = "custom.prompt")]
    CustomPrompt {
        name: &'a str,
        arguments: &'a Map<String, Value>,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        input: Option<ClientInput>,
    },
    /// One object, as the get tool reads it.
    #[serde(rename = "resource.object")]
    ResourceObject { source: Value, pk: Option<Value>, fields: &'a [String], masked: &'a [String] },
    /// One file field's content, refused over `max_bytes`.
    #[serde(rename = "resource.file")]
    ResourceFile { source: Value, pk: Option<Value>, field: &'a str, max_bytes: u64 },
    /// The objects the caller can see, from `offset`, those whose pk starts with `prefix`.
    #[serde(rename = "resource.objects")]
    ResourceObjects { source: Value, offset: u64, limit: u64, prefix: Option<&'a str> },
}

impl Effect<'_> {
    /// The effect as the JSON text the host reads.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("effects serialise")
    }
}

/// A changelist column: its name, and the model field it shows (none: the admin computes it).
#[derive(Serialize)]
pub struct Column<'a> {
    pub name: &'a str,
    pub field: Option<&'a str>,
}

/// What a custom handler needs to continue a multi round-trip request: the client's answers,
/// the state it echoes, and what the client can be asked (stateless requests only).
#[derive(Serialize, Clone, Default)]
pub struct ClientInput {
    pub input_responses: Option<Value>,
    pub request_state: Option<String>,
    pub client_capabilities: Option<Value>,
}

/// The kind of an error the host answers an effect with (`{"error": {"kind", …}}`).
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HostErrorKind {
    NotFound,
    Forbidden,
    Validation,
    Conflict,
    Invalid,
    TooLarge,
    MethodNotAllowed,
    RateLimited,
    Skipped,
    Internal,
    /// A kind this engine does not know: treated as a failure it cannot name.
    #[serde(other)]
    Unknown,
}

impl HostErrorKind {
    /// The kind of the host error `err` (`{"kind", "message", …}`); `Unknown` when it has none.
    pub fn of(err: &Value) -> HostErrorKind {
        err.get("kind").and_then(|kind| HostErrorKind::deserialize(kind).ok()).unwrap_or(HostErrorKind::Unknown)
    }

    /// The kind's name, as the audit line's `error_message` carries it (`error`: unknown).
    pub fn as_str(self) -> &'static str {
        match self {
            HostErrorKind::NotFound => "not_found",
            HostErrorKind::Forbidden => "forbidden",
            HostErrorKind::Validation => "validation",
            HostErrorKind::Conflict => "conflict",
            HostErrorKind::Invalid => "invalid",
            HostErrorKind::TooLarge => "too_large",
            HostErrorKind::MethodNotAllowed => "method_not_allowed",
            HostErrorKind::RateLimited => "rate_limited",
            HostErrorKind::Skipped => "skipped",
            HostErrorKind::Internal => "internal",
            HostErrorKind::Unknown => "error",
        }
    }
}

/// What an audit line says of a finished request.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Allow,
    /// The caller's Django permissions refused it.
    Deny,
    /// Outside the key's allowlist or the endpoint's toolset.
    OutOfScope,
    RateLimited,
    Unauthenticated,
    /// The request itself was malformed (JSON, headers, version).
    TransportError,
    /// The handler failed or refused the arguments: a tool error or a JSON-RPC error.
    HandlerError,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_effect_is_its_kind_and_fields() {
        let check = serde_json::from_str::<&RawValue>(r#"{"gate":"user","permission":"a.b"}"#).unwrap();
        let effect = Effect::Permissions { checks: vec![check] };
        assert_eq!(effect.to_text(), r#"{"kind":"permissions","checks":[{"gate":"user","permission":"a.b"}]}"#);
        let arguments = json!({"x": 1});
        let plain = Effect::CustomTool { tool: "t", arguments: &arguments, input: None };
        assert_eq!(plain.to_text(), r#"{"kind":"custom.tool","tool":"t","arguments":{"x":1}}"#);
        let input = ClientInput { request_state: Some("s".into()), ..ClientInput::default() };
        let continued = Effect::CustomTool { tool: "t", arguments: &arguments, input: Some(input) };
        let text: Value = serde_json::from_str(&continued.to_text()).unwrap();
        assert_eq!(text["request_state"], json!("s"));
        assert_eq!(text["input_responses"], Value::Null);
    }

    #[test]
    fn host_error_kinds_are_read_and_an_unknown_one_is_named_error() {
        assert_eq!(HostErrorKind::of(&json!({"kind": "too_large", "message": "m"})), HostErrorKind::TooLarge);
        assert_eq!(HostErrorKind::of(&json!({"kind": "melted"})), HostErrorKind::Unknown);
        assert_eq!(HostErrorKind::of(&json!({"message": "m"})).as_str(), "error");
        assert_eq!(serde_json::to_value(AuditOutcome::OutOfScope).unwrap(), json!("out_of_scope"));
    }
}
