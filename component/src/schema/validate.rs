//! Validates tool arguments against the schemas this engine publishes, before any effect runs.
//!
//! It covers exactly the keywords `schema::fields` and `derive` emit (type, enum,
//! properties, required, additionalProperties, minProperties, items, uniqueItems, min/max bounds, lengths,
//! pattern, anyOf, format); a general validator would cost megabytes of component for
//! keywords we never write. Patterns are compiled when the catalogue loads, not per call.

use std::collections::HashMap;

use regex_lite::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What the checks need beyond the schema's text, prepared at load: compiled patterns, keyed
/// by their source text, and the long choice lists kept out of the descriptors, keyed by the
/// description that says where they are listed.
#[derive(Default)]
pub struct Patterns {
    regexes: HashMap<String, Regex>,
    choices: HashMap<String, ChoiceList>,
}

struct ChoiceList {
    values: Vec<Value>,
    /// Where a client finds the values, for the refusal: "completed for …".
    place: String,
}

impl Patterns {
    /// A value of a schema described by `description` must be one of `values`.
    pub fn keep_choices(&mut self, description: &str, values: Vec<Value>, place: String) {
        self.choices.insert(description.to_string(), ChoiceList { values, place });
    }

    /// The choices kept for a schema described by `description` (see `keep_choices`).
    pub fn choices(&self, description: &str) -> Option<&[Value]> {
        self.choices.get(description).map(|list| list.values.as_slice())
    }

    /// `schema` as a general validator must read it: the choice lists kept beside it (by the
    /// description naming where they are listed) put back as `enum`. The validator oracle's
    /// test and fuzz target hold this validator to one that reads only the schema.
    pub fn with_choices(&self, schema: &Value) -> Value {
        match schema {
            Value::Object(obj) => {
                let mut out: Map<String, Value> = obj.iter().map(|(k, v)| (k.clone(), self.with_choices(v))).collect();
                if let Some(values) = obj.get("description").and_then(Value::as_str).and_then(|d| self.choices(d)) {
                    out.insert("enum".into(), Value::Array(values.to_vec()));
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.with_choices(v)).collect()),
            other => other.clone(),
        }
    }

    /// Compile every `pattern` found in `schema`. A pattern that does not compile is a bug
    /// in derivation, reported as the error.
    pub fn collect(&mut self, schema: &Value) -> Result<(), String> {
        match schema {
            Value::Object(obj) => {
                if let Some(Value::String(p)) = obj.get("pattern") {
                    if !self.regexes.contains_key(p) {
                        let re = Regex::new(p).map_err(|e| format!("pattern {p:?}: {e}"))?;
                        self.regexes.insert(p.clone(), re);
                    }
                }
                obj.values().try_for_each(|v| self.collect(v))
            }
            Value::Array(items) => items.iter().try_for_each(|v| self.collect(v)),
            _ => Ok(()),
        }
    }
}

/// The first violation, or none.
pub fn validate(schema: &Value, value: &Value, patterns: &Patterns) -> Result<(), Violation> {
    check(schema, value, patterns, &Path::Arguments).map_err(|(path, problem)| Violation { path, problem })
}

/// Where the arguments break the schema (`filters.status`; empty: the arguments as a
/// whole) and how; the problem may quote the value.
#[derive(Debug, Serialize, Deserialize)]
pub struct Violation {
    pub path: String,
    pub problem: String,
}

/// Phrased for the caller: `"filters.status: must be one of …"`.
impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "arguments" } else { &self.path };
        write!(f, "{path}: {}", self.problem)
    }
}

/// A violation's path and problem, as the checks below find them.
type Found = (String, String);

/// Where a check is in the arguments, written out only for a violation: most values pass,
/// and a list of pks would otherwise have a path string made for each of its items.
#[derive(Clone, Copy)]
enum Path<'a> {
    Arguments,
    Key(&'a Path<'a>, &'a str),
    Item(&'a Path<'a>, usize),
}

impl Path<'_> {
    /// `filters.status`, `pks[3]`; empty for the arguments as a whole.
    fn text(&self) -> String {
        match self {
            Path::Arguments => String::new(),
            Path::Key(parent, key) => match parent.text() {
                parent if parent.is_empty() => key.to_string(),
                parent => format!("{parent}.{key}"),
            },
            Path::Item(parent, i) => format!("{}[{i}]", parent.text()),
        }
    }
}

fn check(schema: &Value, value: &Value, patterns: &Patterns, path: &Path) -> Result<(), Found> {
    let Some(rules) = schema.as_object() else { return Ok(()) };
    let fail = |problem: String| Err((path.text(), problem));

    if let Some(expected) = rules.get("type") {
        if !type_matches(expected, value) {
            return fail(format!("expected {}, got {}", describe_type(expected), type_name(value)));
        }
    }
    if let Some(Value::Array(allowed)) = rules.get("enum") {
        if !allowed.iter().any(|a| json_equal(a, value)) {
            let shown: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return fail(format!("must be one of {}", shown.join(", ")));
        }
    }
    if let Some(listed) = rules.get("description").and_then(Value::as_str).and_then(|d| patterns.choices.get(d)) {
        if !listed.values.iter().any(|a| json_equal(a, value)) {
            return fail(format!("must be one of the values {}", listed.place));
        }
    }
    if let Some(Value::Array(options)) = rules.get("anyOf") {
        if !options.iter().any(|o| check(o, value, patterns, path).is_ok()) {
            return fail("matches none of the allowed forms".to_string());
        }
    }
    match value {
        Value::Number(n) => check_number(rules, n, path)?,
        Value::String(s) => check_string(rules, s, patterns, path)?,
        Value::Array(items) => check_array(rules, items, patterns, path)?,
        Value::Object(map) => check_object(rules, map, patterns, path)?,
        _ => {}
    }
    Ok(())
}

fn check_number(rules: &Map<String, Value>, n: &serde_json::Number, path: &Path) -> Result<(), Found> {
    use std::cmp::Ordering::{Greater, Less};
    // No column holds more than 64 bits: schemas leave those bounds unsaid, the check applies them.
    let integer =
        rules.get("type").is_some_and(|t| type_matches(t, &Value::from(0)) && !type_matches(t, &Value::from(0.5)));
    let (int_min, int_max) = (Value::from(i64::MIN), Value::from(i64::MAX));
    let minimum = rules.get("minimum").or(integer.then_some(&int_min));
    let maximum = rules.get("maximum").or(integer.then_some(&int_max));
    if let Some(min) = minimum {
        if compare(n, min) == Some(Less) {
            return Err((path.text(), format!("must be at least {min}")));
        }
    }
    if let Some(max) = maximum {
        if compare(n, max) == Some(Greater) {
            return Err((path.text(), format!("must be at most {max}")));
        }
    }
    Ok(())
}

/// Integers compare exactly (64-bit bounds lose precision as f64); other numbers as f64.
fn compare(n: &serde_json::Number, bound: &Value) -> Option<std::cmp::Ordering> {
    let Value::Number(b) = bound else { return None };
    let exact = |x: &serde_json::Number| x.as_i64().map(i128::from).or_else(|| x.as_u64().map(i128::from));
    match (exact(n), exact(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => n.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn check_string(rules: &Map<String, Value>, s: &str, patterns: &Patterns, path: &Path) -> Result<(), Found> {
    let len = s.chars().count() as u64;
    if let Some(max) = rules.get("maxLength").and_then(Value::as_u64) {
        if len > max {
            return Err((path.text(), format!("must be at most {max} characters")));
        }
    }
    if let Some(min) = rules.get("minLength").and_then(Value::as_u64) {
        if len < min {
            return Err((path.text(), format!("must be at least {min} characters")));
        }
    }
    if let Some(Value::String(p)) = rules.get("pattern") {
        let matched = patterns.regexes.get(p).map(|re| re.is_match(s)).unwrap_or(false);
        if !matched {
            // A derived pattern is unreadable to a caller; the description says the rule.
            let problem = match rules.get("description").and_then(Value::as_str) {
                Some(rule) => format!("is not in the accepted form ({rule})"),
                None => format!("does not match the pattern {p}"),
            };
            return Err((path.text(), problem));
        }
    }
    if let Some(Value::String(format)) = rules.get("format") {
        if !format_matches(format, s) {
            return Err((path.text(), format!("is not a valid {format}")));
        }
    }
    Ok(())
}

fn check_array(rules: &Map<String, Value>, items: &[Value], patterns: &Patterns, path: &Path) -> Result<(), Found> {
    if let Some(min) = rules.get("minItems").and_then(Value::as_u64) {
        if (items.len() as u64) < min {
            return Err((path.text(), format!("needs at least {min} items")));
        }
    }
    if let Some(max) = rules.get("maxItems").and_then(Value::as_u64) {
        if (items.len() as u64) > max {
            return Err((path.text(), format!("takes at most {max} items")));
        }
    }
    if rules.get("uniqueItems") == Some(&Value::Bool(true)) {
        if let Some(item) = first_repeat(items) {
            return Err((path.text(), format!("repeats the item {item}")));
        }
    }
    if let Some(item_schema) = rules.get("items") {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, patterns, &Path::Item(path, i))?;
        }
    }
    Ok(())
}

fn check_object(
    rules: &Map<String, Value>,
    map: &Map<String, Value>,
    patterns: &Patterns,
    path: &Path,
) -> Result<(), Found> {
    if let Some(Value::Array(required)) = rules.get("required") {
        for key in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(key) {
                return Err((Path::Key(path, key).text(), "is required".to_string()));
            }
        }
    }
    if let Some(min) = rules.get("minProperties").and_then(Value::as_u64) {
        if (map.len() as u64) < min {
            let what = if min == 1 { "one property".to_string() } else { format!("{min} properties") };
            return Err((path.text(), format!("needs at least {what}")));
        }
    }
    let properties = rules.get("properties").and_then(Value::as_object);
    for (key, item) in map {
        match properties.and_then(|p| p.get(key)) {
            Some(property) => check(property, item, patterns, &Path::Key(path, key))?,
            None => match rules.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    let known =
                        properties.map(|p| p.keys().cloned().collect::<Vec<_>>().join(", ")).unwrap_or_default();
                    let hint = if known.is_empty() {
                        "no properties are accepted here".to_string()
                    } else {
                        format!("accepted: {known}")
                    };
                    return Err((Path::Key(path, key).text(), format!("is not an accepted argument ({hint})")));
                }
                Some(extra @ Value::Object(_)) => check(extra, item, patterns, &Path::Key(path, key))?,
                _ => {}
            },
        }
    }
    Ok(())
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    match expected {
        Value::String(t) => is_type(t, value),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| is_type(t, value)),
        _ => true,
    }
}

fn is_type(t: &str, value: &Value) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        // 2020-12: an integer is any number with a zero fractional part (1.0 included); as a
        // float only while exact (|x| ≤ 2^53): beyond, it could stand for its neighbours.
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64()
                    || n.is_u64()
                    || n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0)
            }
            _ => false,
        },
        _ => true,
    }
}

fn describe_type(expected: &Value) -> String {
    match expected {
        Value::Array(ts) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            names.join(" or ")
        }
        Value::String(t) => t.clone(),
        other => other.to_string(),
    }
}

/// The JSON Schema type of a value.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The first item equal to one before it. Linear: comparing every pair of a long list would
/// be a denial of service.
fn first_repeat(items: &[Value]) -> Option<&Value> {
    // A list of 64-bit integers (pks, mostly) is compared as numbers, without a text made for
    // each: `canonical` writes each such integer as its own digits, so the same items repeat.
    if let Some(numbers) = items.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>() {
        let mut seen = std::collections::HashSet::with_capacity(numbers.len());
        return numbers.iter().position(|n| !seen.insert(*n)).map(|i| &items[i]);
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().find(|item| !seen.insert(canonical(item)))
}

/// A text equal for JSON-equal values (`1` and `1.0` alike, object keys in order).
fn canonical(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => n
                .as_f64()
                .map(|f| if f.fract() == 0.0 && f.abs() < 9.2e18 { (f as i64).to_string() } else { f.to_string() })
                .unwrap_or_default(),
        },
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        Value::Object(map) => {
            let mut entries: Vec<String> =
                map.iter().map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v))).collect();
            entries.sort();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// JSON equality where 1 and 1.0 are the same number.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// Light syntactic checks: they catch a value of the wrong shape, not every invalid date.
fn format_matches(format: &str, s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range.clone()).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date =
        |b: &[u8]| b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
    match format {
        "date" => date(b),
        "date-time" => b.len() >= 19 && date(&b[..10]) && matches!(b[10], b'T' | b't' | b' ') && time_ok(&s[11..]),
        "time" => time_ok(s),
        "uuid" => {
            let hex: String = s.chars().filter(|c| *c != '-').collect();
            hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) && (s.len() == 32 || s.len() == 36)
        }
        "email" => {
            let mut parts = s.rsplitn(2, '@');
            let (domain, local) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
        }
        "uri" => s.split_once(':').is_some_and(|(scheme, _)| {
            !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }),
        "duration" => s.starts_with('P') || s.starts_with("-P") || s.chars().any(|c| c.is_ascii_digit()),
        _ => true,
    }
}

fn time_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5 && b[2] == b':' && b[..2].iter().chain(&b[3..5]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(schema: Value, value: Value) -> Result<(), String> {
        let mut p = Patterns::default();
        p.collect(&schema).unwrap();
        validate(&schema, &value, &p).map_err(|v| v.to_string())
    }

    #[test]
    fn integers_beyond_exact_floats_are_not_integers() {
        let big: Value = serde_json::from_str("-9223372036854775809").unwrap();
        assert!(run(json!({"type": "integer"}), big).unwrap_err().contains("expected integer"));
        assert!(run(json!({"type": "integer"}), json!(3.0)).is_ok());
    }

    #[test]
    fn unique_items_are_judged_in_one_pass() {
        let schema = json!({"type": "array", "uniqueItems": true});
        let many: Vec<u32> = (0..100_000).collect();
        assert!(run(schema.clone(), json!(many)).is_ok());
        assert!(run(schema.clone(), json!([1, 2, 1.0])).unwrap_err().contains("repeats"));
        assert!(run(schema.clone(), json!([{"a": 1, "b": 2}, {"b": 2, "a": 1}])).is_err());
        assert_eq!(run(schema.clone(), json!([3, -1, 7, -1, 3])).unwrap_err(), "arguments: repeats the item -1");
        assert!(run(schema.clone(), json!([i64::MIN, i64::MAX, u64::MAX])).is_ok());
        assert_eq!(run(schema, json!([1, "1", 1.0])).unwrap_err(), "arguments: repeats the item 1.0");
    }

    #[test]
    fn names_the_offending_field() {
        let schema = json!({"type": "object", "properties": {
            "page": {"type": "integer", "minimum": 1},
            "filters": {"type": "object", "additionalProperties": false,
                        "properties": {"status": {"enum": ["a", "b"]}}}
        }, "additionalProperties": false});
        assert_eq!(run(schema.clone(), json!({"page": "2"})).unwrap_err(), "page: expected integer, got string");
        assert_eq!(run(schema.clone(), json!({"page": 0})).unwrap_err(), "page: must be at least 1");
        assert_eq!(
            run(schema.clone(), json!({"filters": {"status": "c"}})).unwrap_err(),
            "filters.status: must be one of \"a\", \"b\""
        );
        assert!(run(schema.clone(), json!({"filters": {"author__password": "x"}}))
            .unwrap_err()
            .starts_with("filters.author__password: is not an accepted argument"));
        assert!(run(schema, json!({"page": 2.0, "filters": {"status": "a"}})).is_ok());
    }

    #[test]
    fn paths_name_items_and_keys_at_any_depth() {
        let row = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let schema = json!({"type": "object", "properties": {
            "pks": {"type": "array", "items": {"type": "integer"}},
            "rows": {"type": "array", "items": row.clone()},
            "": row,
        }});
        assert_eq!(run(schema.clone(), json!({"pks": [1, "x"]})).unwrap_err(), "pks[1]: expected integer, got string");
        assert_eq!(
            run(schema.clone(), json!({"rows": [{"a": 1}, {"a": []}]})).unwrap_err(),
            "rows[1].a: expected integer, got array"
        );
        // An empty name joins as no name, as a path written out step by step always did.
        assert_eq!(run(schema, json!({"": {"a": true}})).unwrap_err(), "a: expected integer, got boolean");
    }

    #[test]
    fn required_patterns_and_formats() {
        let schema = json!({"type": "object", "required": ["pk"], "properties": {
            "pk": {"type": "string", "format": "uuid"},
            "slug": {"type": "string", "pattern": "^[a-z]+$"}}});
        assert_eq!(run(schema.clone(), json!({})).unwrap_err(), "pk: is required");
        assert_eq!(run(schema.clone(), json!({"pk": "nope"})).unwrap_err(), "pk: is not a valid uuid");
        assert!(run(schema.clone(), json!({"pk": "0b7e0a5c-6ad4-4c47-9b4f-2a1e6c1e2f11", "slug": "ok"})).is_ok());
        assert_eq!(
            run(schema, json!({"pk": "0b7e0a5c6ad44c479b4f2a1e6c1e2f11", "slug": "NO"})).unwrap_err(),
            "slug: does not match the pattern ^[a-z]+$"
        );
        let described = json!({"type": "string", "pattern": "^a$", "description": "Say a."});
        assert_eq!(run(described, json!("b")).unwrap_err(), "arguments: is not in the accepted form (Say a.)");
    }

    #[test]
    fn an_integer_without_bounds_is_held_to_64_bits() {
        assert!(run(json!({"type": "integer"}), json!(i64::MIN)).is_ok());
        assert_eq!(
            run(json!({"type": "integer"}), json!(i64::MAX as u64 + 1)).unwrap_err(),
            "arguments: must be at most 9223372036854775807"
        );
        assert!(run(json!({"type": ["integer", "null"], "minimum": 0}), json!(-1)).is_err());
        assert!(run(json!({"type": "number"}), json!(u64::MAX)).is_ok());
    }

    #[test]
    fn sixty_four_bit_bounds_compare_exactly() {
        let schema = json!({"type": "integer", "minimum": i64::MIN, "maximum": i64::MAX});
        assert!(run(schema.clone(), json!(i64::MAX)).is_ok());
        assert!(run(schema.clone(), json!(u64::MAX)).is_err());
        assert!(run(schema, json!(i64::MAX as u64 + 1)).is_err());
    }
}
