//! Generates one `#[test]` per `tests/transcripts/*.transcript` for `tests/replay.rs`.
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcripts");
    // A directory: cargo reruns this when anything in it changes (a transcript added).
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".transcript"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();

    let mut code = String::new();
    code.push_str(&format!(
        "/// The transcripts these tests were generated for.\nconst GENERATED_FOR: &[&str] = &{names:?};\n"
    ));
    let mut used = std::collections::HashSet::new();
    for name in &names {
        let stem = name.trim_end_matches(".transcript");
        let mut ident: String =
            stem.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
        ident = format!("transcript_{ident}");
        let mut unique = ident.clone();
        let mut n = 2;
        while !used.insert(unique.clone()) {
            unique = format!("{ident}_{n}");
            n += 1;
        }
        code.push_str(&format!("#[test]\nfn {unique}() {{\n    replay_one({name:?});\n}}\n"));
    }
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("transcript_tests.rs");
    std::fs::write(out, code).unwrap();
}
