//! The work a tool asks of the host (one effect per call), and the tool result shaped from
//! the host's answer. Arguments have been validated against the tool's schema already.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use super::{tool_error, tool_failure, tool_result_text, tool_success, ToolResult};
use crate::derive::drf::DrfShape;
use crate::derive::views::CallMethod;
use crate::derive::{Catalogue, DrfOperation, FilterRule, Operation, SearchOperation, Tool};
use crate::facts::DrfListingFacts;
use crate::facts::ModelFacts;
use crate::protocol::{field_paths, Failure};
use crate::seam::{AuditOutcome, ClientInput, Column, Effect, HostErrorKind};

/// A view's writes are undone when it answers a server error (as Django's `ATOMIC_REQUESTS`
/// would); a DRF view's from any refusal (DRF's 400 says nothing was saved), so a refused
/// write leaves nothing.
const VIEW_ROLLBACK_FROM: u16 = 500;
const DRF_ROLLBACK_FROM: u16 = 400;

/// Whether a call with `method` may write, and so runs in a transaction: any method but the
/// safe ones (RFC 9110).
fn writes(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// The effect that does `tool`'s work with `args`; a custom tool's continues a multi
/// round-trip request with `input`.
pub(crate) fn effect<'a>(
    cat: &'a Catalogue,
    tool: &'a Tool,
    args: &'a Value,
    input: Option<ClientInput>,
) -> Effect<'a> {
    let admin = |i: &usize| cat.admin_ids[*i].as_str();
    let path = || args.get("path").cloned().unwrap_or_else(|| json!({}));
    match &tool.spec.operation {
        Operation::AdminList { admin: i, columns, cleared, filters, order_by, default_page_size } => {
            Effect::AdminList {
                admin: admin(i),
                columns: columns.iter().map(|(name, field)| Column { name, field: field.as_deref() }).collect(),
                cleared,
                q: args.get("q"),
                filters: list_filters(filters, args.get("filters")),
                ordering: ordering(order_by, args.get("ordering").and_then(Value::as_str)),
                page: page(args),
                page_size: page_size(args, *default_page_size),
            }
        }
        Operation::AdminRetrieve { admin: i, fields, masked } => {
            Effect::AdminRetrieve { admin: admin(i), pk: args.get("pk"), fields, masked }
        }
        Operation::AdminCreate { admin: i, fields, masked } => {
            Effect::AdminCreate { admin: admin(i), data: args, fields, masked }
        }
        Operation::AdminUpdate { admin: i, fields, masked } => {
            Effect::AdminUpdate { admin: admin(i), pk: args.get("pk"), data: args.get("fields"), fields, masked }
        }
        Operation::AdminDelete { admin: i } => Effect::AdminDelete { admin: admin(i), pk: args.get("pk") },
        Operation::AdminAction { admin: i, action } => {
            Effect::AdminAction { admin: admin(i), action, pks: args.get("pks") }
        }
        Operation::Custom { .. } => Effect::CustomTool { tool: &tool.spec.name, arguments: args, input },
        Operation::Search(search) => {
            let SearchOperation { model, admin, search_fields, filters, fields, masked, default_page_size } = &**search;
            let given = args.get("filters").and_then(Value::as_object);
            let filters: Vec<Value> = filters
                .iter()
                .filter_map(|name| given?.get(name).map(|value| json!({"path": name, "value": value})))
                .collect();
            let ordering: Vec<String> = args
                .get("ordering")
                .and_then(Value::as_str)
                .map(|o| o.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            Effect::ModelSearch {
                model,
                admin: admin.as_deref(),
                q: args.get("q"),
                search_fields,
                filters,
                ordering,
                page: page(args),
                page_size: page_size(args, *default_page_size),
                fields,
                masked,
            }
        }
        Operation::ViewCall { view, method, .. } => {
            let method = method.for_call(args);
            Effect::ViewCall {
                view,
                atomic: writes(&method),
                method,
                path: path(),
                query: args.get("query"),
                body: args.get("body"),
                rollback_from: VIEW_ROLLBACK_FROM,
                masked: &cat.masked_keys,
            }
        }
        Operation::DrfCall(call) => {
            let DrfOperation { view, handler, method, shape, .. } = &**call;
            let query = match shape {
                DrfShape::List { listing, default_page_size } => listing_query(listing, *default_page_size, args),
                _ => args.get("query").cloned().unwrap_or_else(|| json!({})),
            };
            let method = method.for_call(args);
            Effect::DrfCall {
                view,
                handler,
                atomic: writes(&method),
                method,
                path: path(),
                query,
                body: args.get("body"),
                rollback_from: DRF_ROLLBACK_FROM,
                masked: &cat.masked_keys,
            }
        }
    }
}

/// A DRF list tool's arguments as the query parameters the view's paginator and filter
/// backends read (only declared filters reach here: the schema is closed).
fn listing_query(listing: &DrfListingFacts, default_page_size: u64, args: &Value) -> Value {
    let mut query = Map::new();
    if let (Some(search), Some(q)) = (&listing.search, args.get("q")) {
        query.insert(search.param.clone(), q.clone());
    }
    if let (Some(ordering), Some(given)) = (&listing.ordering, args.get("ordering")) {
        query.insert(ordering.param.clone(), given.clone());
    }
    if let Some(filters) = args.get("filters").and_then(Value::as_object) {
        for (name, value) in filters {
            query.insert(name.clone(), value.clone());
        }
    }
    let Some(pagination) = &listing.pagination else { return Value::Object(query) };
    let size_param = pagination.page_size_param.as_deref();
    match pagination.style.as_str() {
        "limit_offset" => {
            let limit = page_size(args, default_page_size);
            query.insert(size_param.unwrap_or("limit").to_string(), json!(limit));
            let offset = (page(args).saturating_sub(1)).saturating_mul(limit);
            query.insert(pagination.offset_param.as_deref().unwrap_or("offset").to_string(), json!(offset));
        }
        style => {
            let position = if style == "cursor" { args.get("cursor") } else { args.get("page") };
            if let (Some(param), Some(value)) = (&pagination.page_param, position) {
                query.insert(param.clone(), value.clone());
            }
            if let (Some(param), Some(size)) = (size_param, args.get("page_size")) {
                query.insert(param.to_string(), size.clone());
            }
        }
    }
    Value::Object(query)
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

/// The host's answer to the work effect: `{"ok": …}` or `{"error": …}`. The value is read
/// as `T`: raw, or a page or an object whose rows and fields stay raw, so they go into the
/// reply as the host wrote them, without being rebuilt.
#[derive(Deserialize)]
struct Answer<T> {
    ok: Option<T>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    results: &'a RawValue,
    count: u64,
}

#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow)]
    object: &'a RawValue,
}

/// The tool result for the host's answer (JSON text) to the work effect, and its audit outcome.
pub(crate) fn shape(cat: &Catalogue, tool: &Tool, args: &Value, outcome: &str) -> (ToolResult, AuditOutcome) {
    let Some(admin) = tool.spec.operation.admin() else {
        return match &tool.spec.operation {
            Operation::ViewCall { method, .. } => shape_view(method, args, outcome),
            Operation::DrfCall(call) => shape_drf(&call.shape, &call.method, args, outcome),
            Operation::Search(search) => shape_search(args, search.default_page_size, outcome),
            _ => shape_custom(outcome),
        };
    };
    let model = cat.admin_model(admin);
    let failed = |err: Value| match err {
        Value::Null => no_result("tool"),
        err => admin_error(tool, model, args, &err),
    };
    let malformed = |what: &str| {
        (
            tool_error(format!("The tool failed: the host's {what} was malformed."), Failure::new("malformed_answer")),
            AuditOutcome::HandlerError,
        )
    };
    let structured = match &tool.spec.operation {
        Operation::AdminList { default_page_size, .. } => match answered_as::<Page>(outcome) {
            Ok(Some(found)) => page_result(args, *default_page_size, found),
            Ok(None) => return malformed("page"),
            Err(err) => return failed(err),
        },
        Operation::AdminRetrieve { .. } | Operation::AdminCreate { .. } | Operation::AdminUpdate { .. } => {
            return match answered_as::<Object>(outcome) {
                Ok(Some(found)) => {
                    let links = object_link(cat, model, found.object);
                    (tool_success(&format!("{{\"object\":{}}}", found.object.get()), &links), AuditOutcome::Allow)
                }
                Ok(None) => malformed("object"),
                Err(err) => failed(err),
            };
        }
        Operation::AdminDelete { .. } => {
            let value = match answered(outcome) {
                Ok(value) => value,
                Err(err) => return failed(err),
            };
            let deleted: Value = serde_json::from_str(value.get()).unwrap_or(Value::Null);
            json!({"deleted": deleted.get("deleted").cloned().unwrap_or(json!(true)), "pk": args.get("pk")}).to_string()
        }
        Operation::Custom { .. } | Operation::ViewCall { .. } | Operation::DrfCall(_) | Operation::Search(_) => {
            unreachable!("shaped by shape_custom, shape_view, shape_drf and shape_search")
        }
        Operation::AdminAction { .. } => {
            let value = match answered(outcome) {
                Ok(value) => value,
                Err(err) => return failed(err),
            };
            let done: Value = serde_json::from_str(value.get()).unwrap_or(Value::Null);
            let mut out = Map::new();
            out.insert("message".into(), done.get("message").cloned().unwrap_or(Value::Null));
            out.insert("updated".into(), done.get("updated").cloned().unwrap_or(json!(0)));
            Value::Object(out).to_string()
        }
    };
    (tool_success(&structured, &[]), AuditOutcome::Allow)
}

/// A tool error naming what the admin refused or found wrong, and its audit outcome.
fn admin_error(tool: &Tool, model: &ModelFacts, args: &Value, err: &Value) -> (ToolResult, AuditOutcome) {
    let kind = HostErrorKind::of(err);
    let verbose = &model.verbose_name;
    let message = match kind {
        HostErrorKind::NotFound => {
            format!("No {verbose} with pk {} exists that you can see.", args.get("pk").unwrap_or(&Value::Null))
        }
        HostErrorKind::Forbidden => match &tool.spec.operation {
            Operation::AdminUpdate { .. } => format!("You do not have permission to change this {verbose}."),
            Operation::AdminDelete { .. } => {
                format!("You do not have permission to delete this {verbose} (or objects it would delete).")
            }
            Operation::AdminAction { .. } => {
                match err.get("message").and_then(Value::as_str).filter(|m| !m.is_empty() && *m != "forbidden") {
                    Some(reason) => reason.to_string(),
                    None => format!("This action is not available to you for these {}.", model.verbose_name_plural),
                }
            }
            _ => format!("You do not have permission to view this {verbose}."),
        },
        HostErrorKind::Validation => validation_message(err),
        _ => err.get("message").and_then(Value::as_str).unwrap_or("The tool failed.").to_string(),
    };
    let outcome = if kind == HostErrorKind::Forbidden { AuditOutcome::Deny } else { AuditOutcome::HandlerError };
    let container = if matches!(tool.spec.operation, Operation::AdminUpdate { .. }) { "fields" } else { "" };
    (tool_error(message, Failure::of_host(err, container)), outcome)
}

/// A `resource_link` to the object's model resource, when there is one.
fn object_link(cat: &Catalogue, model: &ModelFacts, object: &RawValue) -> Vec<Value> {
    let Some(template) = cat.object_template(&model.label) else {
        return Vec::new();
    };
    let pk = match serde_json::from_str::<Map<String, Value>>(object.get()).ok().and_then(|o| o.get(&model.pk).cloned())
    {
        Some(Value::String(s)) => s,
        Some(v @ Value::Number(_)) => v.to_string(),
        _ => return Vec::new(),
    };
    vec![
        json!({"type": "resource_link", "uri": template.uri.replace("{pk}", &pk), "name": format!("{} {pk}", model.label),
                "mimeType": "application/json"}),
    ]
}

/// The host's answer to the work effect: its raw `ok` value, or its error object (`Null`
/// when the host gave no answer at all).
fn answered(outcome: &str) -> Result<&RawValue, Value> {
    match serde_json::from_str::<Answer<&RawValue>>(outcome) {
        Ok(Answer { ok: Some(value), error: None }) => Ok(value),
        Ok(Answer { error: Some(err), .. }) => Err(err),
        _ => Err(Value::Null),
    }
}

/// The same, the value read as `T` in the one pass over the answer's text (a page's rows
/// are long); `Ok(None)` when the host answered a value that is not a `T`.
fn answered_as<'a, T: Deserialize<'a>>(outcome: &'a str) -> Result<Option<T>, Value> {
    match serde_json::from_str::<Answer<T>>(outcome) {
        Ok(Answer { ok: Some(value), error: None }) => Ok(Some(value)),
        // Read again with the value raw: an error, no answer, or a value that is not a `T`.
        _ => answered(outcome).map(|_| None),
    }
}

fn no_result(what: &str) -> (ToolResult, AuditOutcome) {
    (
        tool_error(format!("The {what} failed: the host gave no result."), Failure::new("no_result")),
        AuditOutcome::HandlerError,
    )
}

/// `{count, page, page_size, results}` from the host's page, rows passed through raw.
fn page_result(args: &Value, default_page_size: u64, found: Page) -> String {
    format!(
        "{{\"count\":{},\"page\":{},\"page_size\":{},\"results\":{}}}",
        found.count,
        page(args),
        page_size(args, default_page_size),
        found.results.get()
    )
}

/// A search page, or the reason there is none (a filter value the field cannot hold, …).
fn shape_search(args: &Value, default_page_size: u64, outcome: &str) -> (ToolResult, AuditOutcome) {
    let found = match answered_as::<Page>(outcome) {
        Ok(found) => found,
        Err(Value::Null) => return no_result("search"),
        Err(err) => {
            let failure = Failure::of_host(&err, "");
            return match HostErrorKind::of(&err) {
                HostErrorKind::Validation => {
                    (tool_error(validation_message(&err), failure), AuditOutcome::HandlerError)
                }
                HostErrorKind::Forbidden => (
                    tool_error("You do not have permission to search these objects.".to_string(), failure),
                    AuditOutcome::Deny,
                ),
                _ => (
                    tool_error(
                        err.get("message").and_then(Value::as_str).unwrap_or("The search failed.").to_string(),
                        failure,
                    ),
                    AuditOutcome::HandlerError,
                ),
            };
        }
    };
    match found {
        Some(found) => (tool_success(&page_result(args, default_page_size, found), &[]), AuditOutcome::Allow),
        None => (
            tool_error(
                "The search failed: the host's page was malformed.".to_string(),
                Failure::new("malformed_answer"),
            ),
            AuditOutcome::HandlerError,
        ),
    }
}

/// A view's answer `{status, headers, body}` as it came; a 4xx or 5xx answer is a tool error
/// (still with the answer as structured content, so the agent sees what the view said).
fn shape_view(method: &CallMethod, args: &Value, outcome: &str) -> (ToolResult, AuditOutcome) {
    let value = match answered(outcome) {
        Ok(value) => value,
        Err(Value::Null) => return no_result("view"),
        Err(err) if HostErrorKind::of(&err) == HostErrorKind::MethodNotAllowed => {
            return (
                tool_error(method.refusal(args), Failure::naming("invalid_arguments", vec!["method".into()])),
                AuditOutcome::HandlerError,
            );
        }
        Err(err) => {
            let message = err.get("message").and_then(Value::as_str).unwrap_or("The view failed.").to_string();
            return (tool_error(message, Failure::of_host(&err, "")), AuditOutcome::HandlerError);
        }
    };
    let status = serde_json::from_str::<Value>(value.get())
        .ok()
        .and_then(|v| v.get("status").and_then(Value::as_u64))
        .unwrap_or(0);
    if status >= 400 {
        (tool_failure(value.get(), Failure::http(status)), AuditOutcome::HandlerError)
    } else {
        (tool_success(value.get(), &[]), AuditOutcome::Allow)
    }
}

/// A DRF view's answer `{status, headers, body}` read for its tool: a page, an object, a
/// deletion, or the answer as it came (actions, APIViews). Refusals and invalid data become
/// tool errors that say what DRF said.
fn shape_drf(shape: &DrfShape, method: &CallMethod, args: &Value, outcome: &str) -> (ToolResult, AuditOutcome) {
    if matches!(shape, DrfShape::Response) {
        return shape_view(method, args, outcome);
    }
    let answer: Value = match answered(outcome) {
        Ok(value) => serde_json::from_str(value.get()).unwrap_or(Value::Null),
        Err(Value::Null) => return no_result("API call"),
        Err(err) => {
            let message = err.get("message").and_then(Value::as_str).unwrap_or("The API call failed.").to_string();
            let outcome = if HostErrorKind::of(&err) == HostErrorKind::Forbidden {
                AuditOutcome::Deny
            } else {
                AuditOutcome::HandlerError
            };
            return (tool_error(message, Failure::of_host(&err, "")), outcome);
        }
    };
    let status = answer.get("status").and_then(Value::as_u64).unwrap_or(0);
    let body = answer.get("body").cloned().unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        // A list's arguments go to DRF as its query (django-filter's refusals name them);
        // other handlers' as the request body.
        let container = if matches!(shape, DrfShape::List { .. }) { "filters" } else { "body" };
        return drf_refusal(status, &body, container);
    }
    let structured = match shape {
        DrfShape::List { listing, default_page_size } => match drf_page(listing, *default_page_size, args, body) {
            Some(page) => page,
            None => {
                return (
                    tool_error(
                        "The API call failed: the view's answer is not a list.".to_string(),
                        Failure::new("malformed_answer"),
                    ),
                    AuditOutcome::HandlerError,
                )
            }
        },
        DrfShape::Object => json!({"object": body}),
        DrfShape::Deleted { lookup } => {
            let pk = lookup.as_ref().and_then(|l| args.get("path")?.get(l).cloned()).unwrap_or(Value::Null);
            json!({"deleted": true, "pk": pk})
        }
        DrfShape::Response => unreachable!("answered as it came above"),
    };
    (tool_success(&structured.to_string(), &[]), AuditOutcome::Allow)
}

/// `{results, count, page, page_size}` (or the cursors) from what the view answered: a
/// paginator's page, or a whole list the tool pages itself.
fn drf_page(listing: &DrfListingFacts, default_page_size: u64, args: &Value, body: Value) -> Option<Value> {
    let size = page_size(args, default_page_size);
    match body {
        Value::Array(all) => {
            let count = all.len();
            let start = (page(args).saturating_sub(1)).saturating_mul(size).min(count as u64) as usize;
            let results: Vec<Value> = all.into_iter().skip(start).take(size as usize).collect();
            Some(json!({"results": results, "count": count, "page": page(args), "page_size": size}))
        }
        Value::Object(mut page_body) => {
            let results = page_body.remove("results").filter(Value::is_array)?;
            if listing.pagination.as_ref().is_some_and(|p| p.style == "cursor") {
                let param =
                    listing.pagination.as_ref().and_then(|p| p.page_param.clone()).unwrap_or_else(|| "cursor".into());
                let cursor =
                    |key: &str| page_body.get(key).and_then(Value::as_str).and_then(|url| query_value(url, &param));
                return Some(
                    json!({"results": results, "page_size": size, "next_cursor": cursor("next"), "previous_cursor": cursor("previous")}),
                );
            }
            let count = page_body.get("count").and_then(Value::as_u64).unwrap_or(0);
            Some(json!({"results": results, "count": count, "page": page(args), "page_size": size}))
        }
        _ => None,
    }
}

/// The (percent-decoded) value of `param` in a URL's query string.
fn query_value(url: &str, param: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == param).then(|| percent_decode(value))
    })
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(hi, lo)| hi * 16 + lo),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A tool error for a DRF answer outside 2xx, with DRF's own words; the fields of a 400
/// sit under the argument `container`.
fn drf_refusal(status: u64, body: &Value, container: &str) -> (ToolResult, AuditOutcome) {
    let detail = body.get("detail").and_then(Value::as_str).map(str::to_string);
    match status {
        400 => {
            let mut fields = Map::new();
            flatten_errors("", body, &mut fields);
            let failure = Failure::naming("validation", field_paths(&fields, container));
            (tool_error(validation_message(&json!({"fields": fields})), failure), AuditOutcome::HandlerError)
        }
        401 | 403 => {
            let message = detail.unwrap_or_else(|| "You do not have permission to perform this action.".into());
            (tool_error(message, Failure::new("forbidden")), AuditOutcome::Deny)
        }
        404 => (
            tool_error(detail.unwrap_or_else(|| "Not found.".into()), Failure::new("not_found")),
            AuditOutcome::HandlerError,
        ),
        _ => {
            let said = detail.map(|d| format!(": {d}")).unwrap_or_default();
            (
                tool_error(format!("The API answered HTTP {status}{said}"), Failure::http(status)),
                AuditOutcome::HandlerError,
            )
        }
    }
}

/// DRF's error body (`{"title": ["…"], "author": {"name": ["…"]}, "non_field_errors": […]}`)
/// as `field path → messages`.
fn flatten_errors(prefix: &str, errors: &Value, out: &mut Map<String, Value>) {
    let label = |key: &str| if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") };
    match errors {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if key == "non_field_errors" { "__all__" } else { key.as_str() };
                flatten_errors(&label(key), value, out);
            }
        }
        Value::Array(items) if items.iter().all(Value::is_string) => {
            out.insert(
                if prefix.is_empty() { "__all__".into() } else { prefix.to_string() },
                Value::Array(items.clone()),
            );
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_errors(&label(&i.to_string()), item, out);
            }
        }
        Value::String(text) => {
            out.insert(if prefix.is_empty() { "__all__".into() } else { prefix.to_string() }, json!([text]));
        }
        _ => {}
    }
}

/// A custom tool's result is the host's `{content, isError, structuredContent?}` as it is.
fn shape_custom(outcome: &str) -> (ToolResult, AuditOutcome) {
    let answer: Value = serde_json::from_str(outcome).unwrap_or(Value::Null);
    if let Some(err) = answer.get("error") {
        let message = err.get("message").and_then(Value::as_str).unwrap_or("The tool failed.").to_string();
        return (tool_error(message, Failure::of_host(err, "")), AuditOutcome::HandlerError);
    }
    let Some(result) = answer.get("ok").filter(|r| r.get("content").is_some_and(Value::is_array)) else {
        return (
            tool_error("The tool failed: the host gave no content.".to_string(), Failure::new("malformed_answer")),
            AuditOutcome::HandlerError,
        );
    };
    if result.get("isError") == Some(&Value::Bool(true)) {
        return (tool_result_text(result.to_string(), Some(Failure::new("tool_error"))), AuditOutcome::HandlerError);
    }
    (tool_result_text(result.to_string(), None), AuditOutcome::Allow)
}

/// `"Invalid: title: This field is required. pages: Ensure …"`, field by field.
fn validation_message(err: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(fields) = err.get("fields").and_then(Value::as_object) {
        for (field, messages) in fields {
            let text: Vec<&str> =
                messages.as_array().map(|m| m.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            let label = if field == "__all__" { "(form)" } else { field.as_str() };
            parts.push(format!("{label}: {}", text.join(" ")));
        }
    }
    if parts.is_empty() {
        parts.push(err.get("message").and_then(Value::as_str).unwrap_or("the data is not valid").to_string());
    }
    format!("Invalid: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_as_a_page_tells_a_page_from_an_error_and_from_a_malformed_value() {
        fn count(outcome: &str) -> Result<Option<(u64, &str)>, Value> {
            answered_as::<Page>(outcome).map(|found| found.map(|p| (p.count, p.results.get())))
        }
        assert_eq!(count(r#"{"ok":{"results":[{"a":1}],"count":3}}"#), Ok(Some((3, r#"[{"a":1}]"#))));
        assert_eq!(count(r#"{"ok":{"results":[],"count":0},"error":null}"#), Ok(Some((0, "[]"))));
        assert_eq!(count(r#"{"ok":{"results":[]}}"#), Ok(None));
        assert_eq!(count(r#"{"ok":[1]}"#), Ok(None));
        let error = json!({"kind": "forbidden"});
        assert_eq!(count(r#"{"error":{"kind":"forbidden"}}"#), Err(error.clone()));
        assert_eq!(count(r#"{"ok":{"results":[],"count":0},"error":{"kind":"forbidden"}}"#), Err(error));
        for nothing in [r#"{"ok":null}"#, "{}", "null", "not JSON"] {
            assert_eq!(count(nothing), Err(Value::Null), "{nothing}");
        }
    }
}
