//! DRF serializer field facts → JSON Schema (draft 2020-12), in two directions: what a
//! serializer accepts (writable fields, the tool's input) and what it renders (readable
//! fields, the tool's output). Rendered values are described leniently where DRF cannot
//! promise a type (method fields, read-only values): a strict client checks them.

use serde_json::{json, Map, Value};

use super::fields::{
    annotate_schema, capitalise, decimal_string, model_pk_schema, nullable, object_schema, restrict_to_choices,
    string_in_format, with_bounds, ModelIndex,
};
use crate::facts::SerializerFieldFacts;

/// Which side of the serializer a schema describes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Direction {
    Input,
    Output,
}

/// The object a serializer accepts. `partial`: nothing is required (PATCH). Open, as DRF is:
/// a serializer ignores what it does not declare, and its `validate()` may read it.
pub fn input_schema(fields: &[SerializerFieldFacts], models: &dyn ModelIndex, partial: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields.iter().filter(|f| accepts(f)) {
        properties.insert(field.name.clone(), field_schema(field, models, Direction::Input));
        if field.required && !partial {
            required.push(field.name.as_str());
        }
    }
    object_schema(properties, &required, false)
}

/// The object a serializer renders.
pub fn output_schema(fields: &[SerializerFieldFacts], models: &dyn ModelIndex) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .filter(|f| !f.write_only)
        .map(|f| (f.name.clone(), field_schema(f, models, Direction::Output)))
        .collect();
    object_schema(properties, &[], false)
}

/// Whether the field is part of the input. Files cannot travel in a JSON body.
pub fn accepts(field: &SerializerFieldFacts) -> bool {
    !field.read_only && !matches!(field.kind.as_str(), "file" | "method" | "hyperlinked_identity" | "string_related")
}

pub fn field_schema(field: &SerializerFieldFacts, models: &dyn ModelIndex, direction: Direction) -> Value {
    field_schema_at_depth(field, models, direction, 0)
}

/// Nesting deeper than this is described as any value (recursive serializers exist).
const MAX_DEPTH: u8 = 6;

fn field_schema_at_depth(
    field: &SerializerFieldFacts,
    models: &dyn ModelIndex,
    direction: Direction,
    depth: u8,
) -> Value {
    if depth > MAX_DEPTH {
        return json!({});
    }
    let mut schema = value_schema(field, models, direction, depth);
    if let Some(choices) = field.choices.as_ref().filter(|c| !c.is_empty()) {
        match field.kind.as_str() {
            "multiple_choice" => {
                let mut item = json!({});
                restrict_to_choices(&mut item, choices);
                schema = json!({"type": "array", "items": item, "uniqueItems": true});
                if field.allow_empty == Some(false) {
                    schema["minItems"] = json!(1);
                }
            }
            _ => {
                // A blank choice is valid where the field allows it.
                let mut choices = choices.clone();
                if field.allow_blank && !choices.iter().any(|(v, _)| v == "") {
                    choices.push((json!(""), String::new()));
                }
                restrict_to_choices(&mut schema, &choices);
            }
        }
    }
    // DRF labels every field ("author_id" → "Author id"); only a label someone wrote says more.
    let said = field.label.to_lowercase() != field.name.replace('_', " ").to_lowercase();
    let title = if said && !field.label.is_empty() { capitalise(&field.label) } else { String::new() };
    annotate_schema(&mut schema, &title, &field.help_text);
    // What DRF renders for a method or read-only value is the code's business: null too.
    let untyped_output =
        direction == Direction::Output && (field.kind == "method" || field.read_only && field.kind == "any");
    if field.allow_null || untyped_output {
        schema = nullable(schema);
    }
    schema
}

fn value_schema(field: &SerializerFieldFacts, models: &dyn ModelIndex, direction: Direction, depth: u8) -> Value {
    let output = direction == Direction::Output;
    match field.kind.as_str() {
        "boolean" => json!({"type": "boolean"}),
        "char" => string(field, None),
        "email" => string(field, Some("email")),
        "url" => string(field, Some("uri")),
        "uuid" => json!({"type": "string", "format": "uuid"}),
        "slug" => string(field, None).with("pattern", json!("^[-a-zA-Z0-9_]+$")),
        "regex" => match &field.pattern {
            Some(p) => string(field, None).with("pattern", json!(p)),
            None => string(field, None),
        },
        "ip" => json!({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
        "integer" => bounded(json!({"type": "integer"}), field),
        "float" => bounded(json!({"type": "number"}), field),
        "decimal" => {
            let text = decimal_string(field.max_digits, field.decimal_places);
            if output {
                if field.coerce_to_string {
                    text
                } else {
                    json!({"type": "number"})
                }
            } else {
                // DRF takes a decimal as a string or a number.
                json!({"anyOf": [text, bounded(json!({"type": "number"}), field)]})
            }
        }
        "datetime" | "date" | "time" => match field.format.as_deref() {
            Some(format) => json!({"type": "string", "format": format}),
            None => json!({"type": "string"}),
        },
        // DRF writes durations as "[DD] [HH:[MM:]]ss[.uuuuuu]" and reads that or ISO 8601.
        "duration" => {
            json!({"type": "string", "description": "A duration: \"[DD] [HH:[MM:]]ss[.uuuuuu]\" or ISO 8601."})
        }
        "choice" | "multiple_choice" => json!({}),
        // The file's URL (or name) as DRF renders it; files are not accepted in a JSON body.
        "file" => json!({"type": ["string", "null"]}),
        "list" => {
            let mut schema = json!({"type": "array"});
            if let Some(child) = &field.child {
                schema["items"] = field_schema_at_depth(child, models, direction, depth + 1);
            }
            if let Some(n) = field.min_length {
                schema["minItems"] = json!(n);
            } else if field.allow_empty == Some(false) {
                schema["minItems"] = json!(1);
            }
            if let Some(n) = field.max_length {
                schema["maxItems"] = json!(n);
            }
            schema
        }
        "many" => {
            let mut schema = json!({"type": "array"});
            if let Some(child) = &field.child {
                schema["items"] = field_schema_at_depth(child, models, direction, depth + 1);
            }
            if field.allow_empty == Some(false) && !output {
                schema["minItems"] = json!(1);
            }
            schema
        }
        "dict" => {
            let items = field
                .child
                .as_ref()
                .map(|c| field_schema_at_depth(c, models, direction, depth + 1))
                .unwrap_or_else(|| json!({}));
            json!({"type": "object", "additionalProperties": items})
        }
        "related" => {
            let mut schema = match &field.target {
                Some(label) => model_pk_schema(label, models),
                None => json!({"type": ["integer", "string"]}),
            };
            if let Some(obj) = schema.as_object_mut() {
                obj.remove("title");
                obj.remove("description");
            }
            schema
        }
        "slug_related" | "string_related" => json!({"type": "string"}),
        "hyperlinked" | "hyperlinked_identity" => json!({"type": "string", "format": "uri"}),
        "method" => field.returns.clone().filter(Value::is_object).unwrap_or_else(|| json!({})),
        "nested" => match &field.fields {
            Some(fields) if depth < MAX_DEPTH => match direction {
                Direction::Input => nested_input(fields, models, depth),
                Direction::Output => nested_output(fields, models, depth),
            },
            _ => json!({"type": "object"}),
        },
        // json, hstore, ReadOnlyField, custom fields: any value.
        _ => json!({}),
    }
}

fn nested_input(fields: &[SerializerFieldFacts], models: &dyn ModelIndex, depth: u8) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields.iter().filter(|f| accepts(f)) {
        properties.insert(field.name.clone(), field_schema_at_depth(field, models, Direction::Input, depth + 1));
        if field.required {
            required.push(field.name.as_str());
        }
    }
    object_schema(properties, &required, false)
}

fn nested_output(fields: &[SerializerFieldFacts], models: &dyn ModelIndex, depth: u8) -> Value {
    let properties = fields
        .iter()
        .filter(|f| !f.write_only)
        .map(|f| (f.name.clone(), field_schema_at_depth(f, models, Direction::Output, depth + 1)))
        .collect();
    object_schema(properties, &[], false)
}

/// A string with DRF's length rules; `allow_blank = False` (the default) refuses "".
fn string(field: &SerializerFieldFacts, format: Option<&str>) -> Value {
    let mut schema = match format {
        Some(format) => string_in_format(format, field.allow_blank),
        None => json!({"type": "string"}),
    };
    let min = field.min_length.or(if field.allow_blank || format.is_some() { None } else { Some(1) });
    if let Some(n) = min {
        schema["minLength"] = json!(n);
    }
    if let Some(n) = field.max_length {
        schema["maxLength"] = json!(n);
    }
    schema
}

fn bounded(schema: Value, field: &SerializerFieldFacts) -> Value {
    with_bounds(schema, field.min_value.as_ref(), field.max_value.as_ref())
}

trait With {
    fn with(self, key: &str, value: Value) -> Value;
}

impl With for Value {
    fn with(mut self, key: &str, value: Value) -> Value {
        self[key] = value;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::fields::NoModels;

    fn field(value: Value) -> SerializerFieldFacts {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn read_only_fields_stay_out_of_inputs_and_required_follows_drf() {
        let fields = vec![
            field(json!({"name": "id", "kind": "integer", "read_only": true})),
            field(json!({"name": "title", "kind": "char", "required": true, "max_length": 200})),
            field(json!({"name": "secret", "kind": "char", "write_only": true})),
        ];
        let input = input_schema(&fields, &NoModels, false);
        assert_eq!(input["required"], json!(["title"]));
        assert!(input["properties"].get("id").is_none());
        assert_eq!(input["properties"]["title"], json!({"type": "string", "minLength": 1, "maxLength": 200}));
        assert!(input_schema(&fields, &NoModels, true).get("required").is_none());
        let output = output_schema(&fields, &NoModels);
        assert!(output["properties"].get("secret").is_none());
        assert_eq!(output["properties"]["id"], json!({"type": "integer"}));
    }

    #[test]
    fn choices_decimals_nesting_and_method_fields() {
        let status = field(
            json!({"name": "status", "kind": "choice", "choices": [["draft", "Draft"], ["published", "Published"]]}),
        );
        assert_eq!(field_schema(&status, &NoModels, Direction::Input)["enum"], json!(["draft", "published"]));
        let price = field(
            json!({"name": "price", "kind": "decimal", "max_digits": 6, "decimal_places": 2, "coerce_to_string": true}),
        );
        assert_eq!(field_schema(&price, &NoModels, Direction::Output)["pattern"], json!("^-?\\d{1,4}(\\.\\d{1,2})?$"));
        assert!(field_schema(&price, &NoModels, Direction::Input)["anyOf"].is_array());
        let author = field(json!({"name": "author", "kind": "nested", "read_only": true,
            "fields": [{"name": "name", "kind": "char"}, {"name": "id", "kind": "integer", "read_only": true}]}));
        assert_eq!(field_schema(&author, &NoModels, Direction::Output)["properties"]["name"]["type"], "string");
        let pages =
            field(json!({"name": "pages", "kind": "method", "read_only": true, "returns": {"type": "integer"}}));
        assert_eq!(field_schema(&pages, &NoModels, Direction::Output)["type"], json!(["integer", "null"]));
        let tags = field(json!({"name": "tags", "kind": "many", "child": {"name": "", "kind": "related"}}));
        assert_eq!(field_schema(&tags, &NoModels, Direction::Input)["items"]["type"], json!(["integer", "string"]));
    }
}
