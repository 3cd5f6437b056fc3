//! The work a tool asks of the host (one effect per call), and the tool result shaped from
//! the host's answer. Arguments have been validated against the tool's schema already.

use serde_json::{json, Map, Value};

use crate::derive::{Catalogue, FilterRule, Operation, Tool};
use crate::protocol::tools::tool_error;

pub fn effect(cat: &Catalogue, tool: &Tool, args: &Value) -> Value {
    let admin = |i: &usize| cat.admin_ids[*i].clone();
    match &tool.spec.operation {
        Operation::AdminList { admin: i, columns, masked, filters, order_by, default_page_size } => {
            let columns: Vec<Value> = columns.iter().map(|(name, field)| json!({"name": name, "field": field})).collect();
            json!({
                "kind": "admin.list",
                "admin": admin(i),
                "columns": columns,
                "masked": masked,
                "q": args.get("q"),
                "filters": list_filters(filters, args.get("filters")),
                "ordering": ordering(order_by, args.get("ordering").and_then(Value::as_str)),
                "page": page(args),
                "page_size": page_size(args, *default_page_size),
            })
        }
        Operation::AdminRetrieve { admin: i, fields, masked } => json!({
            "kind": "admin.retrieve", "admin": admin(i), "pk": args.get("pk"), "fields": fields, "masked": masked,
        }),
        Operation::AdminCreate { admin: i, fields, masked } => json!({
            "kind": "admin.create", "admin": admin(i), "data": args, "fields": fields, "masked": masked,
        }),
        Operation::AdminUpdate { admin: i, fields, masked } => json!({
            "kind": "admin.update", "admin": admin(i), "pk": args.get("pk"), "data": args.get("fields"),
            "fields": fields, "masked": masked,
        }),
        Operation::AdminDelete { admin: i } => json!({"kind": "admin.delete", "admin": admin(i), "pk": args.get("pk")}),
        Operation::AdminAction { admin: i, action } => json!({
            "kind": "admin.action", "admin": admin(i), "action": action, "pks": args.get("pks"),
        }),
    }
}

/// The host's filter instructions for the `filters` argument (only declared names reach here).
fn list_filters(rules: &[(String, FilterRule)], given: Option<&Value>) -> Vec<Value> {
    let Some(given) = given.and_then(Value::as_object) else { return Vec::new() };
    rules
        .iter()
        .filter_map(|(name, rule)| {
            let value = given.get(name)?;
            Some(match rule {
                FilterRule::Exact { path } => json!({"kind": "field", "path": path, "value": value}),
                FilterRule::Range { path } if value.is_null() => json!({"kind": "field", "path": path, "value": null}),
                FilterRule::Range { path } => {
                    let mut range = json!({"kind": "range", "path": path});
                    for bound in ["gte", "lte"] {
                        if let Some(v) = value.get(bound) {
                            range[bound] = v.clone();
                        }
                    }
                    range
                }
                FilterRule::Choices => json!({"kind": "choices", "name": name, "value": value}),
            })
        })
        .collect()
}

/// `"-price,title"` → ORM expressions, through each column's `admin_order_field`.
fn ordering(order_by: &[(String, String)], given: Option<&str>) -> Vec<String> {
    let Some(given) = given else { return Vec::new() };
    given
        .split(',')
        .filter_map(|token| {
            let (descending, column) = match token.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, token),
            };
            let expr = &order_by.iter().find(|(c, _)| c == column)?.1;
            let (expr_descending, path) = match expr.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, expr.as_str()),
            };
            Some(if descending != expr_descending { format!("-{path}") } else { path.to_string() })
        })
        .collect()
}

fn page(args: &Value) -> u64 {
    args.get("page").and_then(Value::as_f64).map(|f| f as u64).unwrap_or(1)
}

fn page_size(args: &Value, default: u64) -> u64 {
    args.get("page_size").and_then(Value::as_f64).map(|f| f as u64).unwrap_or(default)
}

/// The tool result for the host's answer to the work effect, and its audit outcome.
pub fn shape(cat: &Catalogue, tool: &Tool, args: &Value, outcome: &Value) -> (Value, &'static str) {
    let model = cat.admin_model(tool.spec.operation.admin());
    if let Some(err) = outcome.get("error") {
        let kind = err.get("kind").and_then(Value::as_str).unwrap_or("internal");
        let verbose = &model.verbose_name;
        let message = match kind {
            "not_found" => format!("No {verbose} with pk {} exists that you can see.", args.get("pk").unwrap_or(&Value::Null)),
            "forbidden" => match &tool.spec.operation {
                Operation::AdminUpdate { .. } => format!("You do not have permission to change this {verbose}."),
                Operation::AdminDelete { .. } => format!("You do not have permission to delete this {verbose} (or objects it would delete)."),
                Operation::AdminAction { .. } => match err.get("message").and_then(Value::as_str).filter(|m| !m.is_empty() && *m != "forbidden") {
                    Some(reason) => reason.to_string(),
                    None => format!("This action is not available to you for these {}.", model.verbose_name_plural),
                },
                _ => format!("You do not have permission to view this {verbose}."),
            },
            "validation" => validation_message(err),
            _ => err.get("message").and_then(Value::as_str).unwrap_or("The tool failed.").to_string(),
        };
        let outcome = if kind == "forbidden" { "deny" } else { "handler_error" };
        return (tool_error(message), outcome);
    }
    let Some(value) = outcome.get("ok") else {
        return (tool_error("The tool failed: the host gave no result.".to_string()), "handler_error");
    };
    let structured = match &tool.spec.operation {
        Operation::AdminList { default_page_size, .. } => json!({
            "results": value.get("results").cloned().unwrap_or(json!([])),
            "count": value.get("count").cloned().unwrap_or(json!(0)),
            "page": page(args),
            "page_size": page_size(args, *default_page_size),
        }),
        Operation::AdminRetrieve { .. } | Operation::AdminCreate { .. } | Operation::AdminUpdate { .. } => {
            json!({"object": value.get("object").cloned().unwrap_or(json!({}))})
        }
        Operation::AdminDelete { .. } => json!({"deleted": value.get("deleted").cloned().unwrap_or(json!(true)), "pk": args.get("pk")}),
        Operation::AdminAction { .. } => {
            let mut out = Map::new();
            out.insert("updated".into(), value.get("updated").cloned().unwrap_or(json!(0)));
            out.insert("message".into(), value.get("message").cloned().unwrap_or(Value::Null));
            Value::Object(out)
        }
    };
    let text = serde_json::to_string(&structured).expect("JSON values serialise");
    (json!({"content": [{"type": "text", "text": text}], "structuredContent": structured, "isError": false}), "allow")
}

/// `"Invalid: title: This field is required. pages: Ensure …"`, field by field.
fn validation_message(err: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(fields) = err.get("fields").and_then(Value::as_object) {
        for (field, messages) in fields {
            let text: Vec<&str> = messages.as_array().map(|m| m.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let label = if field == "__all__" { "(form)" } else { field.as_str() };
            parts.push(format!("{label}: {}", text.join(" ")));
        }
    }
    if parts.is_empty() {
        parts.push(err.get("message").and_then(Value::as_str).unwrap_or("the data is not valid").to_string());
    }
    format!("Invalid: {}", parts.join("; "))
}
