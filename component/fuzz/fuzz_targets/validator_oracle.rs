//! The engine's argument validator against the `jsonschema` crate on arbitrary arguments:
//! the input's first byte picks one of the tools the demo's and the third-party project's
//! facts derive, the rest is read as JSON arguments, and both validators must give the
//! same verdict (component/tests/validator_oracle.rs does the same on generated ones).
//!
//! Left out, as differences by design: `format` (checked for shape only here), integers
//! past 2^53 (refused here), and strings outside ASCII (the engine's patterns read `\d`
//! and `\w` as ASCII, a general validator as Unicode: the engine is the stricter).
#![no_main]

use std::sync::OnceLock;

use django_mcp_engine::derive::Catalogue;
use django_mcp_engine::schema::validate::validate;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const FACTS: [&str; 2] = [
    include_str!("../../../tests/transcripts/facts/library.json"),
    include_str!("../../../tests/oracle/thirdparty-facts.json"),
];

struct Case {
    schema: Value,
    validator: jsonschema::Validator,
    catalogue: usize,
}

struct Oracle {
    catalogues: Vec<Catalogue>,
    cases: Vec<Case>,
}

fn oracle() -> &'static Oracle {
    static ORACLE: OnceLock<Oracle> = OnceLock::new();
    ORACLE.get_or_init(|| {
        let mut catalogues = Vec::new();
        let mut cases = Vec::new();
        for facts in FACTS {
            let mut facts: Value = serde_json::from_str(facts).unwrap();
            facts["settings"]["discovery"] = json!("off");
            let cat = Catalogue::derive(serde_json::from_value(facts).unwrap()).unwrap().0;
            for tool in &cat.tools {
                let schema = without_formats(&tool.validation_schema());
                let general = cat.patterns.with_choices(&schema);
                let validator = jsonschema::draft202012::options().build(&general).unwrap();
                cases.push(Case { schema, validator, catalogue: catalogues.len() });
            }
            catalogues.push(cat);
        }
        Oracle { catalogues, cases }
    })
}

fn without_formats(schema: &Value) -> Value {
    match schema {
        Value::Object(obj) => Value::Object(
            obj.iter().filter(|(k, _)| *k != "format").map(|(k, v)| (k.clone(), without_formats(v))).collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_formats).collect()),
        other => other.clone(),
    }
}

/// Whether `value` stays within what both validators read alike.
fn comparable(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.as_f64().is_some_and(|f| f.abs() < 9_007_199_254_740_992.0),
        Value::String(s) => s.is_ascii(),
        Value::Array(items) => items.iter().all(comparable),
        Value::Object(map) => map.iter().all(|(k, v)| k.is_ascii() && comparable(v)),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(arguments) = serde_json::from_slice::<Value>(rest) else { return };
    if !comparable(&arguments) {
        return;
    }
    let oracle = oracle();
    let case = &oracle.cases[pick as usize % oracle.cases.len()];
    let engine = validate(&case.schema, &arguments, &oracle.catalogues[case.catalogue].patterns).is_ok();
    assert_eq!(engine, case.validator.is_valid(&arguments), "{} for {arguments}", case.schema);
});
