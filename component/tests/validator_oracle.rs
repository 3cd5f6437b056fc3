//! The engine's argument validator (`schema::validate`) against a well-kept general one, the
//! `jsonschema` crate: for every tool the demo's and the third-party test project's facts
//! derive, a valid argument set built from its schema and mutations of it (a property
//! missing, unknown, of the wrong type, out of bounds, too long, off its pattern, format or
//! choices) must get the same verdict from both.
//!
//! Two differences are by design and not generated: formats are checked for their shape
//! only (a 30 February is a date here), and integers past 2^53 are refused here.

use django_mcp_engine::derive::Catalogue;
use django_mcp_engine::schema::validate::validate;
use regex_lite::Regex;
use serde_json::{json, Map, Value};

const LIBRARY: &str = include_str!("../../tests/transcripts/facts/library.json");
const THIRDPARTY: &str = include_str!("../../tests/oracle/thirdparty-facts.json");

/// Strings tried, in order, for a string with a pattern: the first that matches is used.
const CANDIDATES: [&str; 12] =
    ["1", "12.5", "slug-1", "word", "2024", "P1DT02H30M00S", "1 02:30:00", "a1", "abc", "x", "00", "AB"];

fn catalogue(facts: &str) -> Catalogue {
    let mut facts: Value = serde_json::from_str(facts).unwrap();
    facts["settings"]["discovery"] = json!("off");
    Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn format_example(format: &str) -> Option<&'static str> {
    Some(match format {
        "date" => "2024-01-31",
        "date-time" => "2024-01-31T10:00:00Z",
        "time" => "10:00:00",
        "uuid" => "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "email" => "ada@example.com",
        "uri" => "https://example.com/a",
        "duration" => "P1D",
        _ => return None,
    })
}

/// A value `schema` accepts, when one can be built.
fn valid(schema: &Value) -> Option<Value> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return values.iter().find(|v| !v.is_null()).or(values.first()).cloned();
    }
    if let (Some(Value::Array(options)), Some(base)) = (schema.get("anyOf"), schema.as_object()) {
        // Each option read with the keywords beside `anyOf` (a `type`, a `maxLength`).
        return options.iter().find_map(|option| {
            let mut merged = base.clone();
            merged.remove("anyOf");
            merged.extend(option.as_object().cloned().unwrap_or_default());
            valid(&Value::Object(merged))
        });
    }
    let ty = types(schema).into_iter().find(|t| *t != "null").or(types(schema).first().copied());
    match ty {
        Some("object") => {
            let mut out = Map::new();
            if let Some(Value::Object(props)) = schema.get("properties") {
                for (name, prop) in props {
                    out.insert(name.clone(), valid(prop)?);
                }
            } else if let Some(values @ Value::Object(_)) = schema.get("additionalProperties") {
                out.insert("a".into(), valid(values)?);
            }
            Some(Value::Object(out))
        }
        Some("array") => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0).max(1);
            let item = valid(schema.get("items").unwrap_or(&json!({})))?;
            (min == 1).then(|| json!([item]))
        }
        Some("string") => {
            let (min, max) = (
                schema.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize,
                schema.get("maxLength").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize,
            );
            let fits = |s: &str| (min..=max).contains(&s.chars().count());
            let pattern = schema.get("pattern").and_then(Value::as_str).map(|p| Regex::new(p).unwrap());
            let format = schema.get("format").and_then(Value::as_str);
            let found = match (format.and_then(format_example), &pattern) {
                (Some(example), _) => Some(example),
                (None, Some(re)) => {
                    // An ordering (`^-?(id|name)(,-?(id|name))*$`): its first column.
                    let column = schema["pattern"].as_str().and_then(|p| p.strip_prefix("^-?(")).map(|rest| {
                        let end = rest.find(['|', ')']).unwrap_or(rest.len());
                        rest[..end].to_string()
                    });
                    let column = column.filter(|c| re.is_match(c) && fits(c));
                    match column {
                        Some(column) => return Some(json!(column)),
                        None => CANDIDATES.into_iter().find(|c| re.is_match(c) && fits(c)),
                    }
                }
                (None, None) => ["word", "x"].into_iter().find(|c| fits(c)),
            };
            found.filter(|s| pattern.as_ref().is_none_or(|re| re.is_match(s)) && fits(s)).map(|s| json!(s))
        }
        Some("integer") => {
            let min = schema.get("minimum").and_then(Value::as_i64);
            let max = schema.get("maximum").and_then(Value::as_i64);
            Some(json!(min.unwrap_or(1).min(max.unwrap_or(i64::MAX))))
        }
        Some("number") => Some(json!(schema.get("minimum").and_then(Value::as_f64).unwrap_or(1.5))),
        Some("boolean") => Some(json!(true)),
        Some("null") => Some(Value::Null),
        _ => Some(json!("anything")),
    }
}

/// Changes of `value` (valid for `schema`) at every place in it, each a whole argument set.
fn mutations(schema: &Value, value: &Value, into: &mut Vec<Value>, rebuild: &dyn Fn(Value) -> Value) {
    for wrong in [json!(null), json!(12345), json!("text"), json!([]), json!({}), json!(true), json!(1.5)] {
        into.push(rebuild(wrong));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
        into.push(rebuild(json!("y".repeat(max as usize + 1))));
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_i64) {
        into.push(rebuild(json!(min - 1)));
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_i64) {
        into.push(rebuild(json!(max + 1)));
    }
    if schema.get("pattern").is_some() || schema.get("enum").is_some() {
        into.push(rebuild(json!(",,, not one of them ,,,")));
    }
    if schema.get("format").is_some() {
        into.push(rebuild(json!("not even close")));
    }
    match value {
        Value::Object(obj) => {
            let mut extra = obj.clone();
            extra.insert("surely_not_an_argument".into(), json!(1));
            into.push(rebuild(Value::Object(extra)));
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for name in obj.keys() {
                if required.contains(&name.as_str()) {
                    let mut missing = obj.clone();
                    missing.remove(name);
                    into.push(rebuild(Value::Object(missing)));
                }
                let child = schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(child) = child {
                    let rebuild_child = |v: Value| {
                        let mut changed = obj.clone();
                        changed.insert(name.clone(), v);
                        rebuild(Value::Object(changed))
                    };
                    mutations(child, &obj[name], into, &rebuild_child);
                }
            }
        }
        Value::Array(items) => {
            if let (Some(item), Some(item_schema)) = (items.first(), schema.get("items")) {
                into.push(rebuild(json!([item, item])));
                let rebuild_item = |v: Value| rebuild(json!([v]));
                mutations(item_schema, item, into, &rebuild_item);
            }
        }
        _ => {}
    }
}

#[test]
fn the_engines_verdicts_are_the_general_validators() {
    let (mut tools, mut cases, mut without_valid) = (0, 0, Vec::new());
    let mut disagreements = Vec::new();
    for facts in [LIBRARY, THIRDPARTY] {
        let cat = catalogue(facts);
        for tool in &cat.tools {
            tools += 1;
            let schema = tool.validation_schema();
            let oracle_schema = cat.patterns.with_choices(&schema);
            let oracle =
                jsonschema::draft202012::options().should_validate_formats(true).build(&oracle_schema).unwrap();
            let Some(good) = valid(&oracle_schema) else {
                without_valid.push(tool.spec.name.clone());
                continue;
            };
            let mut arguments = vec![good.clone()];
            mutations(&oracle_schema, &good, &mut arguments, &|v| v);
            for args in arguments {
                cases += 1;
                let engine = validate(&schema, &args, &cat.patterns).is_ok();
                if engine != oracle.is_valid(&args) {
                    disagreements.push(format!("{}: {args} — engine says {engine}", tool.spec.name));
                }
            }
            assert!(validate(&schema, &good, &cat.patterns).is_ok(), "{}: {good}", tool.spec.name);
        }
    }
    println!("{tools} tools, {cases} argument sets, {} tools without a valid set", without_valid.len());
    assert!(disagreements.is_empty(), "{} of {cases} disagree:\n{}", disagreements.len(), disagreements.join("\n"));
    assert!(tools > 150 && cases > 5000, "{tools} tools, {cases} cases");
    // Every tool but those whose strings no candidate fits had a valid set built for it.
    assert!(without_valid.len() * 20 < tools, "no valid arguments for {without_valid:?}");
}
