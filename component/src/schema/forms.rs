//! Admin form field facts → the JSON Schema of create/update arguments.
//!
//! Values are written in the shapes the tools return (docs/engine-protocol.md): decimals as
//! strings (numbers accepted too), dates ISO 8601, relations as pks, files as
//! `{"name", "content"}` with base64 content.

use serde_json::{json, Map, Value};

use super::fields::{
    annotate_schema, capitalise, decimal_string, model_pk_schema, nullable, object_schema, restrict_to_choices,
    string_in_format, with_bounds, ModelIndex,
};
use crate::facts::FormFieldFacts;

/// The arguments object for these form fields; `require` says whether required form
/// fields are required arguments (create) or every field is optional (a partial update).
pub fn form_schema(fields: &[FormFieldFacts], models: &dyn ModelIndex, require: bool) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in fields.iter().filter(|f| !f.disabled) {
        properties.insert(field.name.clone(), form_field_schema(field, models));
        if require && field.required {
            required.push(field.name.as_str());
        }
    }
    object_schema(properties, &required, true)
}

pub fn form_field_schema(field: &FormFieldFacts, models: &dyn ModelIndex) -> Value {
    let optional = !field.required;
    let mut schema = match field.kind.as_str() {
        "IntegerField" => bounded(json!({"type": "integer"}), field),
        "FloatField" => bounded(json!({"type": "number"}), field),
        "DecimalField" => {
            let mut s = decimal_string(field.max_digits, field.decimal_places);
            s["type"] = json!(["string", "number"]);
            s
        }
        "BooleanField" => json!({"type": "boolean"}),
        "NullBooleanField" => json!({"type": ["boolean", "null"]}),
        "DateField" => json!({"type": "string", "format": "date"}),
        "DateTimeField" | "SplitDateTimeField" => json!({"type": "string", "format": "date-time"}),
        "TimeField" => json!({"type": "string", "format": "time"}),
        "DurationField" => json!({"type": "string", "minLength": 1,
                                  "description": "A duration: ISO 8601 (P1DT02H30M00S) or [DD ]HH:MM:SS[.uuuuuu]."}),
        "UUIDField" => json!({"type": "string", "format": "uuid"}),
        "EmailField" => lengths(string_in_format("email", optional), field),
        "URLField" => lengths(string_in_format("uri", optional), field),
        "SlugField" => lengths(json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]*$"}), field),
        "RegexField" => {
            let mut s = lengths(json!({"type": "string"}), field);
            if let Some(p) = &field.pattern {
                s["pattern"] = json!(p);
            }
            s
        }
        "CharField" | "GenericIPAddressField" => lengths(json!({"type": "string"}), field),
        "JSONField" => json!({}),
        "ChoiceField" | "TypedChoiceField" => json!({}),
        "MultipleChoiceField" | "TypedMultipleChoiceField" => {
            json!({"type": "array", "uniqueItems": true, "items": {}})
        }
        "ModelChoiceField" => related_pk(field, models),
        "ModelMultipleChoiceField" => json!({"type": "array", "uniqueItems": true, "items": related_pk(field, models)}),
        "FileField" | "ImageField" => json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "description": "File name, e.g. cover.png."},
                "content": {"type": "string", "contentEncoding": "base64", "description": "The file's bytes, base64."},
            },
            "required": ["name", "content"],
            "additionalProperties": false,
        }),
        _ => json!({}),
    };
    if let Some(choices) = field.choices.as_ref().filter(|c| !c.is_empty()) {
        if field.multiple || schema.get("type") == Some(&json!("array")) {
            let mut items = json!({});
            restrict_to_choices(&mut items, choices);
            if let Some(description) = items.as_object_mut().and_then(|o| o.remove("description")) {
                schema["description"] = description;
            }
            schema["items"] = items;
        } else {
            restrict_to_choices(&mut schema, choices);
        }
    }
    annotate(&mut schema, field);
    if field.nullable
        && optional
        && !matches!(
            field.kind.as_str(),
            "ModelMultipleChoiceField" | "MultipleChoiceField" | "TypedMultipleChoiceField"
        )
    {
        schema = nullable(schema);
    }
    if matches!(field.kind.as_str(), "FileField" | "ImageField") && optional {
        schema = json!({"anyOf": [schema, {"type": "null"}], "description": "A new file, or null to clear it."});
    }
    schema
}

fn related_pk(field: &FormFieldFacts, models: &dyn ModelIndex) -> Value {
    match &field.related_model {
        Some(label) => model_pk_schema(label, models),
        None => json!({"type": ["integer", "string"]}),
    }
}

fn bounded(schema: Value, field: &FormFieldFacts) -> Value {
    with_bounds(schema, field.min_value.as_ref(), field.max_value.as_ref())
}

fn lengths(mut schema: Value, field: &FormFieldFacts) -> Value {
    if let Some(n) = field.max_length {
        schema["maxLength"] = json!(n);
    }
    if let Some(n) = field.min_length.filter(|n| *n > 0) {
        schema["minLength"] = json!(n);
    }
    schema
}

fn annotate(schema: &mut Value, field: &FormFieldFacts) {
    annotate_schema(schema, &capitalise(field.label.trim_end_matches(':')), &field.help_text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::fields::NoModels;

    fn field(value: Value) -> FormFieldFacts {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn required_fields_are_required_only_for_create() {
        let fields = vec![
            field(json!({"name": "title", "kind": "CharField", "label": "Title", "required": true, "max_length": 200})),
            field(json!({"name": "pages", "kind": "IntegerField", "min_value": 0, "nullable": true})),
            field(json!({"name": "hash", "kind": "CharField", "disabled": true})),
        ];
        let create = form_schema(&fields, &NoModels, true);
        assert_eq!(create["required"], json!(["title"]));
        assert_eq!(create["properties"]["title"], json!({"type": "string", "maxLength": 200, "title": "Title"}));
        assert_eq!(create["properties"]["pages"], json!({"type": ["integer", "null"], "minimum": 0}));
        assert!(create["properties"].get("hash").is_none());
        assert!(form_schema(&fields, &NoModels, false).get("required").is_none());
    }

    #[test]
    fn choices_multiple_choices_and_files() {
        let status = field(json!({"name": "s", "kind": "TypedChoiceField", "required": true,
                                   "choices": [["d", "Draft"], ["p", "Published"]]}));
        assert_eq!(form_field_schema(&status, &NoModels)["enum"], json!(["d", "p"]));
        let tags = field(json!({"name": "t", "kind": "MultipleChoiceField", "choices": [[1, "a"], [2, "b"]]}));
        let s = form_field_schema(&tags, &NoModels);
        assert_eq!(s["items"]["enum"], json!([1, 2]));
        let cover = field(json!({"name": "c", "kind": "FileField"}));
        let s = form_field_schema(&cover, &NoModels);
        assert_eq!(s["anyOf"][1], json!({"type": "null"}));
        assert_eq!(s["anyOf"][0]["required"], json!(["name", "content"]));
    }
}
