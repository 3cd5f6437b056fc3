//! Django model field facts → JSON Schema (draft 2020-12).
//!
//! The value shapes match what the host serialises (docs/engine-protocol.md): decimals,
//! UUIDs, dates and durations travel as strings, relations as the target's pk.

use serde_json::{json, Map, Number, Value};

use crate::facts::{FieldFacts, ModelFacts};

/// Looks a model up by label; relations need the target's pk schema.
pub trait ModelIndex {
    fn model(&self, label: &str) -> Option<&ModelFacts>;
}

pub const DURATION_PATTERN: &str = "^-?P\\d+DT\\d{2}H\\d{2}M\\d{2}(\\.\\d{1,6})?S$";
const INT32: (i64, i64) = (-2_147_483_648, 2_147_483_647);
const INT16: (i64, i64) = (-32_768, 32_767);
const INT64: (i64, i64) = (i64::MIN, i64::MAX);

/// The schema of one value of `field` (a many-to-many gives the array of pks).
pub fn field_schema(field: &FieldFacts, models: &dyn ModelIndex) -> Value {
    field_schema_at_depth(field, models, 0)
}

fn field_schema_at_depth(field: &FieldFacts, models: &dyn ModelIndex, depth: u8) -> Value {
    let mut schema = if field.related_model.is_some() {
        let target_pk = relation_target_pk(field, models, depth);
        if field.many {
            json!({"type": "array", "items": target_pk, "uniqueItems": true})
        } else {
            target_pk
        }
    } else {
        value_schema(field)
    };
    if let Some(choices) = &field.choices {
        if !choices.is_empty() && !field.many {
            restrict_to_choices(&mut schema, choices);
        }
    }
    annotate(&mut schema, field);
    if field.null && !field.many {
        schema = nullable(schema);
    }
    schema
}

/// The schema of a pk of the model `label` (any integer or string when it is not described).
pub fn model_pk_schema(label: &str, models: &dyn ModelIndex) -> Value {
    pk_schema_at_depth(Some(label), models, 0)
}

fn relation_target_pk(field: &FieldFacts, models: &dyn ModelIndex, depth: u8) -> Value {
    pk_schema_at_depth(field.related_model.as_deref(), models, depth)
}

fn pk_schema_at_depth(label: Option<&str>, models: &dyn ModelIndex, depth: u8) -> Value {
    let target = label.and_then(|label| models.model(label));
    match target.and_then(|m| m.pk_field()) {
        // A pk that is itself a relation (multi-table inheritance) is followed a few hops.
        Some(pk) if depth < 4 => {
            let mut s = field_schema_at_depth(pk, models, depth + 1);
            strip_annotations(&mut s);
            s
        }
        _ => json!({"type": ["integer", "string"]}),
    }
}

fn value_schema(field: &FieldFacts) -> Value {
    let kind = field.kind.as_str();
    match kind {
        "AutoField" | "IntegerField" => integer(field, INT32),
        "BigAutoField" | "BigIntegerField" => integer(field, INT64),
        "SmallAutoField" | "SmallIntegerField" => integer(field, INT16),
        "PositiveIntegerField" => integer(field, (0, INT32.1)),
        "PositiveSmallIntegerField" => integer(field, (0, INT16.1)),
        "PositiveBigIntegerField" => integer(field, (0, INT64.1)),
        "FloatField" => json!({"type": "number"}),
        "DecimalField" => decimal(field),
        "BooleanField" => json!({"type": "boolean"}),
        "NullBooleanField" => json!({"type": ["boolean", "null"]}),
        "DateField" => json!({"type": "string", "format": "date"}),
        "DateTimeField" => json!({"type": "string", "format": "date-time"}),
        "TimeField" => json!({"type": "string", "format": "time"}),
        // Django writes `P1DT02H30M00.5S` and `-P…`, which RFC 3339's `duration` (whole
        // seconds, no sign) rejects; a pattern says exactly what is sent.
        "DurationField" => json!({"type": "string", "pattern": DURATION_PATTERN,
                                  "description": "ISO 8601 duration, e.g. P1DT02H30M00S."}),
        "UUIDField" => json!({"type": "string", "format": "uuid"}),
        "EmailField" => with_max_length(formatted_string("email", field), field),
        "URLField" => with_max_length(formatted_string("uri", field), field),
        "SlugField" => with_max_length(json!({"type": "string", "pattern": "^[-a-zA-Z0-9_]*$"}), field),
        "GenericIPAddressField" | "IPAddressField" => {
            json!({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
        }
        "CharField" | "TextField" | "FilePathField" => with_max_length(json!({"type": "string"}), field),
        // Files travel as their storage name; an empty file is null.
        "FileField" | "ImageField" => json!({"type": ["string", "null"]}),
        "BinaryField" => json!({"type": "string", "contentEncoding": "base64"}),
        // JSON holds any value; an unknown custom field cannot be described more tightly.
        _ => json!({}),
    }
}

/// A string in `format`. Django stores a blank value as "", which no format accepts, so a
/// field with `blank=True` admits the empty string beside it (clients such as the TypeScript
/// SDK assert formats when they check `structuredContent`).
fn formatted_string(format: &str, field: &FieldFacts) -> Value {
    string_in_format(format, field.blank)
}

pub fn string_in_format(format: &str, may_be_empty: bool) -> Value {
    if may_be_empty {
        json!({"type": "string", "anyOf": [{"format": format}, {"maxLength": 0}]})
    } else {
        json!({"type": "string", "format": format})
    }
}

fn integer(field: &FieldFacts, (lo, hi): (i64, i64)) -> Value {
    let minimum = field.min_value.clone().unwrap_or_else(|| lo.into());
    let maximum = field.max_value.clone().unwrap_or_else(|| hi.into());
    with_bounds(json!({"type": "integer"}), Some(&minimum), Some(&maximum))
}

/// `schema` with these bounds; 64-bit ones go unsaid, the validator applies them to every
/// integer anyway.
pub fn with_bounds(mut schema: Value, minimum: Option<&Number>, maximum: Option<&Number>) -> Value {
    if let Some(min) = minimum.filter(|n| n.as_i64() != Some(INT64.0)) {
        schema["minimum"] = Value::Number(min.clone());
    }
    if let Some(max) = maximum.filter(|n| n.as_i64() != Some(INT64.1)) {
        schema["maximum"] = Value::Number(max.clone());
    }
    schema
}

fn decimal(field: &FieldFacts) -> Value {
    decimal_string(field.max_digits, field.decimal_places)
}

/// A decimal as a string: as many digits as the column holds.
pub fn decimal_string(max_digits: Option<u32>, decimal_places: Option<u32>) -> Value {
    let places = decimal_places.unwrap_or(0);
    let whole = max_digits.map(|d| d.saturating_sub(places));
    let whole_part = match whole {
        Some(n) => format!("\\d{{1,{}}}", n.max(1)),
        None => "\\d+".to_string(),
    };
    let fraction = if places > 0 { format!("(\\.\\d{{1,{places}}})?") } else { String::new() };
    json!({"type": "string", "pattern": format!("^-?{whole_part}{fraction}$")})
}

fn with_max_length(mut schema: Value, field: &FieldFacts) -> Value {
    if let Some(n) = field.max_length {
        schema["maxLength"] = json!(n);
    }
    schema
}

pub fn restrict_to_choices(schema: &mut Value, choices: &[(Value, String)]) {
    let values: Vec<Value> = choices.iter().map(|(v, _)| v.clone()).collect();
    let labels: Vec<String> = choices
        .iter()
        // A label that only humanises its value (`in_review` = "In review") says nothing.
        .filter(|(v, l)| !v.as_str().is_some_and(|v| v.replace('_', " ").eq_ignore_ascii_case(l)))
        .map(|(v, l)| format!("{} = {}", compact(v), l))
        .collect();
    let obj = schema.as_object_mut().expect("value schemas are objects");
    // An enum says it all; bounds and patterns would only restate it.
    for key in ["pattern", "maxLength", "minimum", "maximum", "format"] {
        obj.remove(key);
    }
    obj.insert("enum".into(), Value::Array(values));
    // A long list leaves the descriptor (derive::compact), and its labels with it.
    if !labels.is_empty() && choices.len() <= crate::derive::compact::MAX_INLINE_CHOICES {
        let text = format!("Choices: {}.", labels.join("; "));
        obj.insert("description".into(), Value::String(text));
    }
}

fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn annotate(schema: &mut Value, field: &FieldFacts) {
    let title = if field.verbose_name != field.name { capitalise(&field.verbose_name) } else { String::new() };
    annotate_schema(schema, &title, &field.help_text);
}

/// Give `schema` a title and put the help text before any description it has (choices).
pub fn annotate_schema(schema: &mut Value, title: &str, help_text: &str) {
    let Some(obj) = schema.as_object_mut() else { return };
    if !title.is_empty() {
        obj.insert("title".into(), Value::String(title.to_string()));
    }
    if !help_text.is_empty() {
        let text = match obj.get("description").and_then(Value::as_str) {
            Some(more) => format!("{help_text} {more}"),
            None => help_text.to_string(),
        };
        obj.insert("description".into(), Value::String(text));
    }
}

fn strip_annotations(schema: &mut Value) {
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("title");
        obj.remove("description");
    }
}

/// Allow `null` besides what `schema` allows.
pub fn nullable(mut schema: Value) -> Value {
    let Some(obj) = schema.as_object_mut() else { return schema };
    if let Some(values) = obj.get_mut("enum").and_then(Value::as_array_mut) {
        if !values.contains(&Value::Null) {
            values.push(Value::Null);
        }
    }
    match obj.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            if t != "null" {
                obj.insert("type".into(), json!([t, "null"]));
            }
        }
        Some(Value::Array(types)) if !types.iter().any(|t| t == "null") => types.push(json!("null")),
        _ => {}
    }
    schema
}

pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `{"type": "object", "properties": …, "required": …}` for a set of named schemas.
pub fn object_schema(properties: Map<String, Value>, required: &[&str], closed: bool) -> Value {
    let mut obj = Map::new();
    obj.insert("type".into(), json!("object"));
    obj.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        obj.insert("required".into(), json!(required));
    }
    if closed {
        obj.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(obj)
}

/// How a list tool's result pages: by number (`{results, count, page, page_size}`) or by a
/// cursor (`{results, next_cursor, previous_cursor, page_size}`).
pub enum Paging {
    Numbered,
    Cursor,
}

/// A list tool's result: a page of `row`s.
pub fn page_schema(row: Value, paging: Paging) -> Value {
    let mut envelope = Map::from_iter([
        ("results".to_string(), json!({"type": "array", "items": row})),
        ("page_size".to_string(), json!({"type": "integer", "minimum": 1})),
    ]);
    let required: &[&str] = match paging {
        Paging::Numbered => {
            envelope.insert("count".into(), json!({"type": "integer", "minimum": 0}));
            envelope.insert("page".into(), json!({"type": "integer", "minimum": 1}));
            &["results", "count", "page", "page_size"]
        }
        Paging::Cursor => {
            envelope.insert("next_cursor".into(), json!({"type": ["string", "null"]}));
            envelope.insert("previous_cursor".into(), json!({"type": ["string", "null"]}));
            &["results", "page_size"]
        }
    };
    object_schema(envelope, required, false)
}

/// A model index that knows no models, for tests of single fields.
#[cfg(test)]
pub struct NoModels;

#[cfg(test)]
impl ModelIndex for NoModels {
    fn model(&self, _: &str) -> Option<&ModelFacts> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: &str) -> FieldFacts {
        serde_json::from_value(json!({"name": "f", "kind": kind, "verbose_name": "f"})).unwrap()
    }

    #[test]
    fn integers_carry_their_column_bounds() {
        let s = field_schema(&field("PositiveSmallIntegerField"), &NoModels);
        assert_eq!(s, json!({"type": "integer", "minimum": 0, "maximum": 32767}));
    }

    #[test]
    fn nullable_choices_admit_null_in_type_and_enum() {
        let mut f = field("CharField");
        f.null = true;
        f.max_length = Some(10);
        f.choices = Some(vec![(json!("d"), "Draft".into()), (json!("p"), "p".into())]);
        let s = field_schema(&f, &NoModels);
        assert_eq!(s["type"], json!(["string", "null"]));
        assert_eq!(s["enum"], json!(["d", "p", null]));
        assert_eq!(s["description"], json!("Choices: d = Draft."));
        assert!(s.get("maxLength").is_none());
    }

    #[test]
    fn decimals_are_strings_with_their_precision() {
        let mut f = field("DecimalField");
        f.max_digits = Some(6);
        f.decimal_places = Some(2);
        let s = field_schema(&f, &NoModels);
        assert_eq!(s["pattern"], json!("^-?\\d{1,4}(\\.\\d{1,2})?$"));
    }

    #[test]
    fn blank_formatted_strings_admit_the_empty_string() {
        let mut f = field("URLField");
        f.max_length = Some(200);
        assert_eq!(field_schema(&f, &NoModels), json!({"type": "string", "format": "uri", "maxLength": 200}));
        f.blank = true;
        let s = field_schema(&f, &NoModels);
        assert_eq!(s, json!({"type": "string", "maxLength": 200, "anyOf": [{"format": "uri"}, {"maxLength": 0}]}));
        let mut patterns = crate::schema::validate::Patterns::default();
        patterns.collect(&s).unwrap();
        for ok in ["", "https://example.com/"] {
            assert!(crate::schema::validate::validate(&s, &json!(ok), &patterns).is_ok(), "{ok:?}");
        }
        assert!(crate::schema::validate::validate(&s, &json!("not a url"), &patterns).is_err());
    }

    #[test]
    fn unknown_kinds_accept_anything() {
        assert_eq!(field_schema(&field("HStoreField"), &NoModels), json!({}));
    }
}
