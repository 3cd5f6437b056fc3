//! Custom items: tools, resources and prompts a project declares by hand in Python
//! (`DJANGO_MCP_CUSTOM`). The engine names, validates, gates and lists them like derived
//! ones; the host runs them.

use serde_json::Value;

use super::{Gate, Hints, Operation, ToolSpec};
use crate::facts::CustomToolFacts;

pub fn tool_spec(facts: &CustomToolFacts, warnings: &mut Vec<String>) -> Option<ToolSpec> {
    if facts.input_schema.get("type").and_then(Value::as_str) != Some("object") {
        warnings.push(format!("custom tool {}: inputSchema must be an object schema; skipped", facts.name));
        return None;
    }
    Some(ToolSpec {
        name: facts.name.clone(),
        alias: facts.name.clone(),
        title: facts.title.clone().unwrap_or_else(|| facts.name.replace('_', " ")),
        description: facts.description.clone(),
        input_schema: facts.input_schema.clone(),
        output_schema: facts.output_schema.clone().unwrap_or(Value::Null),
        hints: Hints {
            read_only: facts.read_only,
            destructive: facts.destructive && !facts.read_only,
            idempotent: facts.idempotent,
        },
        gate: Gate::User { permission: facts.permission.clone() },
        operation: Operation::Custom { client_capabilities: facts.client_capabilities.clone() },
    })
}

/// The variables of a level-1 URI template (`{name}` segments), in order.
pub fn template_variables(template: &str) -> Vec<&str> {
    template.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect()
}

/// Match `uri` against a level-1 template: each `{name}` takes one or more characters up to
/// the next literal part (and never a `/`).
pub fn match_template(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let mut values = Vec::new();
    let mut rest = uri;
    let mut parts = template.split('{');
    let head = parts.next()?;
    rest = rest.strip_prefix(head)?;
    for part in parts {
        let (name, literal) = part.split_once('}')?;
        let end = if literal.is_empty() { rest.len() } else { rest.find(literal)? };
        let value = &rest[..end];
        if value.is_empty() || value.contains('/') {
            return None;
        }
        values.push((name.to_string(), value.to_string()));
        rest = &rest[end + literal.len()..];
    }
    rest.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments_only() {
        let t = "test://template/{id}/data";
        assert_eq!(template_variables(t), ["id"]);
        assert_eq!(match_template(t, "test://template/42/data"), Some(vec![("id".into(), "42".into())]));
        assert_eq!(match_template(t, "test://template//data"), None);
        assert_eq!(match_template(t, "test://template/a/b/data"), None);
        assert_eq!(match_template(t, "test://template/42/data/more"), None);
        assert_eq!(
            match_template("django-mcp://model/{label}/{pk}", "django-mcp://model/library.Book/7"),
            Some(vec![("label".into(), "library.Book".into()), ("pk".into(), "7".into())])
        );
    }
}
