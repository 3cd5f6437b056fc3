//! View rules: every routed view becomes one tool. Class-based views are narrowed by the
//! methods they define (get-only ListView → list, get-only → get, post-only → create,
//! put → update, delete-only → delete); anything else is `invoke` with a `method` argument.
//! URL converters type the `path` argument; the tool states the gates that protect it.

use serde_json::{json, Map, Value};

use super::{names, Gate, Hints, Operation, ToolSpec};
use crate::facts::{PathParamFacts, ToolNames, ViewFacts};
use crate::schema::fields::object_schema;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The verb a view's methods narrow it to, and the one HTTP method it is called with
/// (`None`: the caller chooses).
fn narrow(view: &ViewFacts) -> (&'static str, Option<&'static str>) {
    let handled: Vec<&str> = view.methods.iter().map(String::as_str).filter(|m| !matches!(*m, "head" | "options" | "trace")).collect();
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

/// The JSON Schema of one path parameter, from its converter.
pub fn param_schema(param: &PathParamFacts) -> Value {
    let mut schema = match param.converter.as_str() {
        "int" => json!({"type": "integer", "minimum": 0}),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "slug" => json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"}),
        "str" => json!({"type": "string", "pattern": "^[^/]+$"}),
        "path" => json!({"type": "string", "minLength": 1}),
        _ => match &param.pattern {
            Some(p) => json!({"type": "string", "pattern": format!("^(?:{p})$")}),
            None => json!({"type": "string"}),
        },
    };
    schema["description"] = json!(format!("The URL's <{}> part.", param.name));
    schema
}

/// The `query` argument: query string parameters, a list repeating its name.
pub fn query_schema() -> Value {
    json!({"type": "object", "description": "Query string parameters.",
           "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}})
}

/// A view's answer as a tool result: `{status, headers, body}`.
pub fn answer_schema(body: &str) -> Value {
    object_schema(
        Map::from_iter([
            ("status".to_string(), json!({"type": "integer", "description": "The HTTP status the view answered with."})),
            ("headers".to_string(), json!({"type": "object", "additionalProperties": {"type": "string"}})),
            ("body".to_string(), json!({"description": body})),
        ]),
        &["status", "headers", "body"],
        false,
    )
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
                    let perms: Vec<&str> = g.get("permissions").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
                    format!("permission {}", perms.join(" and "))
                }
                other => other.to_string(),
            };
            // A gate put on some handlers only (`method_decorator` on `post`) says which.
            let methods: Vec<&str> = g.get("methods").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
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
    let (name, alias) = match names_setting {
        ToolNames::Portable => (portable, dotted),
        ToolNames::Dotted => (dotted, portable),
    };

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
    if method.is_none() {
        let allowed: Vec<String> = if view.methods.is_empty() {
            METHODS.iter().map(|m| m.to_string()).collect()
        } else {
            view.methods.iter().map(|m| m.to_uppercase()).filter(|m| METHODS.contains(&m.as_str())).collect()
        };
        properties.insert("method".into(), json!({"type": "string", "enum": allowed, "description": "The HTTP method."}));
        required.push("method");
    }
    let input = object_schema(properties, &required, true);
    let output = answer_schema("JSON bodies parsed; HTML as readable text; redirects are not followed.");
    let what = if view.description.is_empty() { format!("{}.{}", view.module, view.qualname) } else { view.description.clone() };
    let description = format!("{what} (/{}; {}) {}", view.route, method.unwrap_or("any method"), describe_gates(&view.gates));
    ToolSpec {
        name,
        alias,
        title: crate::schema::fields::capitalise(&format!("{verb} {}", label.replace('_', " "))),
        description,
        input_schema: input,
        output_schema: output,
        hints: hints(verb),
        gate: Gate::View { view: view.id.clone() },
        operation: Operation::ViewCall { view: view.id.clone(), method: method.map(str::to_string), gates: view.gates.clone() },
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
    fn a_gate_on_some_methods_says_which() {
        let gates = [json!({"kind": "login"}), json!({"kind": "permission", "permissions": ["a.b"], "methods": ["POST"]})];
        assert_eq!(describe_gates(&gates), "Protected by: login required; permission a.b for POST.");
    }
}
