//! Facts the benches load: the demo library's, and synthetic projects of many admins.

use serde_json::{json, Value};

pub fn library_facts() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/transcripts/facts/library.json");
    std::fs::read_to_string(path).expect("tests/transcripts/facts/library.json")
}

/// The library's facts with `copies` more admins: each a copy of `library.Book` (model and
/// ModelAdmin, its actions and forms) under its own label, as a project of that many models.
pub fn synthetic_facts(copies: usize) -> String {
    let mut facts: Value = serde_json::from_str(&library_facts()).expect("facts");
    let model = facts["models"].as_array().unwrap().iter().find(|m| m["label"] == "library.Book").unwrap().clone();
    let admin = facts["admins"].as_array().unwrap().iter().find(|a| a["model"] == "library.Book").unwrap().clone();
    for i in 0..copies {
        let (object, lower) = (format!("Thing{i:04}"), format!("thing{i:04}"));
        let mut m = model.clone();
        m["label"] = json!(format!("bench.{object}"));
        m["app_label"] = json!("bench");
        m["model_name"] = json!(lower);
        m["object_name"] = json!(object);
        m["verbose_name"] = json!(format!("thing {i}"));
        m["verbose_name_plural"] = json!(format!("things {i}"));
        facts["models"].as_array_mut().unwrap().push(m);
        let mut a = admin.clone();
        a["id"] = json!(format!("admin/bench.{lower}"));
        a["model"] = json!(format!("bench.{object}"));
        facts["admins"].as_array_mut().unwrap().push(a);
    }
    facts.to_string()
}
