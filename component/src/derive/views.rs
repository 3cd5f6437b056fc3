//! View rules: every routed view becomes one tool. Class-based views are narrowed by the
//! methods they define (get-only ListView → list, get-only → get, post-only → create,
//! put → update, delete-only → delete); anything else is `invoke` with an optional `method`
//! argument. URL converters type the `path` argument; the tool states the gates that protect it.

use serde_json::{json, Map, Value};

use super::{names, Gate, Hints, Operation, ToolSpec};
use crate::facts::{PathParamFacts, ToolNames, ViewFacts};
use crate::schema::fields::object_schema;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The HTTP method a view tool calls its view with.
#[derive(Debug, Clone)]
pub enum CallMethod {
    /// Always this one: the one its verb says (`get_…` GET, `update_…` PATCH, …).
    Fixed(String),
    /// The caller's `method`, one of the methods the view takes (upper case); without it, the
    /// original package's rule: POST when a non-empty body is sent, else GET.
    Chosen { accepted: Vec<String> },
}

impl CallMethod {
    /// The method the call with these (validated) arguments is made with.
    pub fn for_call(&self, args: &Value) -> String {
        match self {
            CallMethod::Fixed(method) => method.clone(),
            CallMethod::Chosen { .. } => match args.get("method").and_then(Value::as_str) {
                Some(named) => named.to_string(),
                None if sends_body(args) => "POST".to_string(),
                None => "GET".to_string(),
            },
        }
    }

    /// Why the host refused the call's method (the view does not take it), and the methods
    /// to choose from.
    pub fn refusal(&self, args: &Value) -> String {
        let method = self.for_call(args);
        let accepted = match self {
            CallMethod::Fixed(only) => only.clone(),
            CallMethod::Chosen { accepted } => accepted.join(", "),
        };
        let why = match (self, args.get("method")) {
            (CallMethod::Chosen { .. }, None) if sends_body(args) => {
                " (without a method, a call with a body is a POST)"
            }
            (CallMethod::Chosen { .. }, None) => " (without a method or a body, a call is a GET)",
            _ => "",
        };
        format!("Invalid arguments: method: this view does not take {method}{why}; name one it takes: {accepted}.")
    }

    /// Adds the `method` argument of a tool whose view takes several methods: optional
    /// unless the rule's choices, GET and POST, are neither of them.
    pub fn add_argument(&self, properties: &mut Map<String, Value>, required: &mut Vec<&'static str>) {
        let CallMethod::Chosen { accepted } = self else { return };
        let defaults = accepted.iter().any(|m| m == "GET" || m == "POST");
        let description =
            if defaults { format!("The HTTP method. {DEFAULT_RULE}") } else { "The HTTP method.".to_string() };
        properties.insert("method".into(), json!({"type": "string", "enum": accepted, "description": description}));
        if !defaults {
            required.push("method");
        }
    }
}

/// The original package's rule for a call that names no method, as the schema says it.
const DEFAULT_RULE: &str = "Without it, POST when a non-empty body is sent, else GET.";

/// Whether the call sends a body: `body` is there and not null, {}, [] or "".
fn sends_body(args: &Value) -> bool {
    match args.get("body") {
        None | Some(Value::Null) => false,
        Some(Value::Object(fields)) => !fields.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

/// The methods among `methods` (any case) a tool may call with, upper case.
pub fn callable_methods(methods: &[String]) -> Vec<String> {
    methods.iter().map(|m| m.to_uppercase()).filter(|m| METHODS.contains(&m.as_str())).collect()
}

/// The verb a view's methods narrow it to, and the one HTTP method it is called with
/// (`None`: the caller chooses).
fn narrow(view: &ViewFacts) -> (&'static str, Option<&'static str>) {
    let handled: Vec<&str> =
        view.methods.iter().map(String::as_str).filter(|m| !matches!(*m, "head" | "options" | "trace")).collect();
    match handled.as_slice() {
        ["get"] if view.class_kind.as_deref() == Some("list") => ("list", Some("GET")),
        ["get"] => ("get", Some("GET")),
        ["post"] => ("create", Some("POST")),
        ["put"] => ("update", Some("PUT")),
        // PATCH when the view takes it: updates are partial.
        ["patch"] | ["put", "patch"] | ["patch", "put"] => ("update", Some("PATCH")),
        ["delete"] => ("delete", Some("DELETE")),
        _ => ("invoke", None),
    }
}

fn hints(verb: &str) -> Hints {
    match verb {
        "list" | "get" => Hints { read_only: true, destructive: false, idempotent: true },
        "create" => Hints { read_only: false, destructive: false, idempotent: false },
        "update" => Hints { read_only: false, destructive: false, idempotent: true },
        "delete" => Hints { read_only: false, destructive: true, idempotent: true },
        _ => Hints { read_only: false, destructive: true, idempotent: false },
    }
}

/// The JSON Schema of one path parameter, from its converter (the route in the tool's
/// description shows where it goes).
pub fn param_schema(param: &PathParamFacts) -> Value {
    match param.converter.as_str() {
        "int" => json!({"type": "integer", "minimum": 0}),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "slug" => json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}),
        "str" => json!({"type": "string", "pattern": "^[^/]+$"}),
        "path" => json!({"type": "string", "minLength": 1}),
        _ => match &param.pattern {
            Some(p) => json!({"type": "string", "pattern": format!("^(?:{p})$")}),
            None => json!({"type": "string"}),
        },
    }
}

/// The `query` argument: query string parameters, a list repeating its name (`items`
/// applies to lists only).
pub fn query_schema() -> Value {
    json!({"type": "object", "additionalProperties": {"type": ["string", "array"], "items": {"type": "string"}}})
}

/// A view's answer as a tool result: `{status, headers, body}` (the instructions say once
/// how a body is given).
pub fn answer_schema() -> Value {
    object_schema(
        Map::from_iter([
            ("status".to_string(), json!({"type": "integer"})),
            ("headers".to_string(), json!({"type": "object"})),
            ("body".to_string(), json!({})),
        ]),
        &["status", "headers", "body"],
        false,
    )
}

/// A route as a reader takes it in: a regular expression's named group `(?P<id>[^/.]+)` as
/// `<id>`, without the anchors (`^…$`).
pub fn readable_route(route: &str) -> String {
    let route = route.strip_prefix('^').unwrap_or(route);
    let route = route.strip_suffix('$').unwrap_or(route);
    let mut readable = String::with_capacity(route.len());
    let mut rest = route;
    while let Some(start) = rest.find("(?P<") {
        readable.push_str(&rest[..start]);
        let group = &rest[start..];
        let (Some(name_end), Some(group_end)) = (group.find('>'), group_end(group)) else {
            rest = group;
            break;
        };
        readable.push('<');
        readable.push_str(&group[4..name_end]);
        readable.push('>');
        rest = &group[group_end..];
    }
    readable.push_str(rest);
    readable
}

/// The length of the group `group` opens (with its closing parenthesis), escapes and
/// character classes skipped; None when it is not closed.
fn group_end(group: &str) -> Option<usize> {
    let (mut depth, mut in_class, mut escaped) = (0usize, false, false);
    for (at, c) in group.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '(' if !in_class => depth += 1,
            ')' if !in_class => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// A sentence naming what protects the view.
pub fn describe_gates(gates: &[Value]) -> String {
    let parts: Vec<String> = gates
        .iter()
        .filter_map(|g| {
            let what = match g.get("kind")?.as_str()? {
                "login" => "login required".to_string(),
                "staff" => "staff members only".to_string(),
                "public" => "open to any caller".to_string(),
                "test" => format!("a test on the user ({})", g.get("test").and_then(Value::as_str).unwrap_or("custom")),
                "permission" => {
                    let perms: Vec<&str> = g
                        .get("permissions")
                        .and_then(Value::as_array)
                        .map(|a| a.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    format!("permission {}", perms.join(" and "))
                }
                other => other.to_string(),
            };
            // A gate put on some handlers only (`method_decorator` on `post`) says which.
            let methods: Vec<&str> = g
                .get("methods")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some(if methods.is_empty() { what } else { format!("{what} for {}", methods.join(", ")) })
        })
        .collect();
    if parts.is_empty() {
        "Protected by: your MCP credential only.".to_string()
    } else {
        format!("Protected by: {}.", parts.join("; "))
    }
}

pub fn tool_for(view: &ViewFacts, names_setting: ToolNames) -> ToolSpec {
    let (verb, method) = narrow(view);
    let label = match &view.name {
        Some(name) => name.replace([':', '-', '.'], "_"),
        None => format!("{}_{}", view.module.rsplit('.').next().unwrap_or(""), view.qualname),
    };
    let portable = names::portable_of(&[verb, &label]);
    let dotted_verb = match verb {
        "get" => "retrieve",
        other => other,
    };
    let dotted = format!("view.{dotted_verb}:{}.{}", view.module, view.qualname);
    let (name, alias) = names::ordered(names_setting, portable, dotted);

    let mut properties = Map::new();
    if !view.path_params.is_empty() {
        let params: Map<String, Value> = view.path_params.iter().map(|p| (p.name.clone(), param_schema(p))).collect();
        let required: Vec<&str> = view.path_params.iter().map(|p| p.name.as_str()).collect();
        properties.insert("path".into(), object_schema(params, &required, true));
    }
    properties.insert("query".into(), query_schema());
    if method != Some("GET") {
        properties.insert("body".into(), json!({"description": "The request body: a JSON value (sent as application/json), or a string (sent as it is)."}));
    }
    let mut required = Vec::new();
    if !view.path_params.is_empty() {
        required.push("path");
    }
    let call_method = match method {
        Some(only) => CallMethod::Fixed(only.to_string()),
        None if view.methods.is_empty() => {
            CallMethod::Chosen { accepted: METHODS.iter().map(|m| m.to_string()).collect() }
        }
        None => CallMethod::Chosen { accepted: callable_methods(&view.methods) },
    };
    call_method.add_argument(&mut properties, &mut required);
    let input = object_schema(properties, &required, true);
    let output = answer_schema();
    let what = if view.description.is_empty() {
        format!("{}.{}", view.module, view.qualname)
    } else {
        view.description.clone()
    };
    let description = format!(
        "{what} (/{}; {}) {}",
        readable_route(&view.route),
        method.unwrap_or("any method"),
        describe_gates(&view.gates)
    );
    ToolSpec {
        name,
        alias,
        title: crate::schema::fields::capitalise(&format!("{verb} {}", label.replace('_', " "))),
        description,
        input_schema: input,
        output_schema: output,
        hints: hints(verb),
        gate: Gate::View { view: view.id.clone() },
        operation: Operation::ViewCall {
            view: view.id.clone(),
            method: call_method,
            gates: view.gates.clone(),
            app: view.app_label.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(methods: &[&str], class_kind: Option<&str>) -> ViewFacts {
        serde_json::from_value(json!({
            "id": "v", "name": "library:book-detail", "route": "library/books/<int:pk>/",
            "path_params": [{"name": "pk", "converter": "int", "pattern": "[0-9]+"}],
            "module": "library.views", "qualname": "BookDetail", "class_kind": class_kind,
            "methods": methods, "gates": [{"kind": "login"}, {"kind": "permission", "permissions": ["library.view_book"]}],
        }))
        .unwrap()
    }

    #[test]
    fn methods_narrow_the_verb() {
        assert_eq!(narrow(&view(&["get", "head", "options"], Some("list"))), ("list", Some("GET")));
        assert_eq!(narrow(&view(&["get"], Some("detail"))), ("get", Some("GET")));
        assert_eq!(narrow(&view(&["post"], None)), ("create", Some("POST")));
        assert_eq!(narrow(&view(&["put", "patch"], None)), ("update", Some("PATCH")));
        assert_eq!(narrow(&view(&["put"], None)), ("update", Some("PUT")));
        assert_eq!(narrow(&view(&["delete"], None)), ("delete", Some("DELETE")));
        assert_eq!(narrow(&view(&["get", "post"], None)), ("invoke", None));
        assert_eq!(narrow(&view(&[], None)), ("invoke", None));
    }

    #[test]
    fn a_view_tool_types_its_path_and_states_its_gates() {
        let tool = tool_for(&view(&["get", "post"], None), ToolNames::Portable);
        assert_eq!(tool.name, "invoke_library_book_detail");
        assert_eq!(tool.alias, "view.invoke:library.views.BookDetail");
        assert_eq!(tool.input_schema["properties"]["path"]["properties"]["pk"]["type"], "integer");
        assert_eq!(tool.input_schema["properties"]["method"]["enum"], json!(["GET", "POST"]));
        assert!(tool.description.ends_with("Protected by: login required; permission library.view_book."));
    }

    #[test]
    fn method_is_optional_unless_the_view_takes_neither_get_nor_post() {
        for methods in [&["get", "post"][..], &[], &["get", "put", "patch", "delete"], &["post", "delete"]] {
            let schema = tool_for(&view(methods, None), ToolNames::Portable).input_schema;
            assert_eq!(schema["required"], json!(["path"]), "{methods:?}");
            assert!(schema["properties"]["method"]["description"].as_str().unwrap().ends_with(DEFAULT_RULE));
        }
        let schema = tool_for(&view(&["put", "delete"], None), ToolNames::Portable).input_schema;
        assert_eq!(schema["required"], json!(["path", "method"]));
        assert_eq!(schema["properties"]["method"]["description"], "The HTTP method.");
    }

    #[test]
    fn a_call_without_a_method_is_a_post_with_a_body_else_a_get() {
        let chosen = CallMethod::Chosen { accepted: vec!["GET".into(), "PUT".into()] };
        assert_eq!(chosen.for_call(&json!({})), "GET");
        assert_eq!(chosen.for_call(&json!({"body": {"a": 1}})), "POST");
        assert_eq!(chosen.for_call(&json!({"body": "text"})), "POST");
        for empty in [json!(null), json!({}), json!([]), json!("")] {
            assert_eq!(chosen.for_call(&json!({"body": empty})), "GET");
        }
        assert_eq!(chosen.for_call(&json!({"method": "PUT", "body": {"a": 1}})), "PUT");
        assert_eq!(CallMethod::Fixed("PATCH".into()).for_call(&json!({"method": "GET"})), "PATCH");
    }

    #[test]
    fn a_refused_method_is_named_with_the_ones_the_view_takes() {
        let chosen = CallMethod::Chosen { accepted: vec!["GET".into(), "PUT".into()] };
        assert_eq!(
            chosen.refusal(&json!({"body": {"a": 1}})),
            "Invalid arguments: method: this view does not take POST (without a method, a call with a body is a POST); \
             name one it takes: GET, PUT."
        );
        let chosen = CallMethod::Chosen { accepted: vec!["POST".into(), "DELETE".into()] };
        assert_eq!(
            chosen.refusal(&json!({})),
            "Invalid arguments: method: this view does not take GET (without a method or a body, a call is a GET); \
             name one it takes: POST, DELETE."
        );
    }

    #[test]
    fn a_gate_on_some_methods_says_which() {
        let gates =
            [json!({"kind": "login"}), json!({"kind": "permission", "permissions": ["a.b"], "methods": ["POST"]})];
        assert_eq!(describe_gates(&gates), "Protected by: login required; permission a.b for POST.");
    }

    #[test]
    fn a_regex_route_reads_as_its_parameters() {
        assert_eq!(readable_route("auth/users/(?P<id>[^/.]+)/"), "auth/users/<id>/");
        assert_eq!(readable_route("^api/(?P<year>(19|20)[0-9]{2})/(?P<slug>[\\w)(-]+)/$"), "api/<year>/<slug>/");
        assert_eq!(readable_route("library/books/<int:pk>/"), "library/books/<int:pk>/");
        // A group left open is shown as written rather than guessed at.
        assert_eq!(readable_route("a/(?P<x>[0-9]+/"), "a/(?P<x>[0-9]+/");
    }
}
