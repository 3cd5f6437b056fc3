//! Reading and replaying `tests/transcripts/*.transcript` (format: tests/transcripts/README.md).

use std::path::{Path, PathBuf};

use crate::{trap_of, CompiledEngine, EngineInstance};

/// `tests/transcripts/` in the workspace.
pub fn transcripts_dir() -> PathBuf {
    crate::workspace_root().join("tests/transcripts")
}

/// Every `*.transcript` file name in `dir`, sorted.
pub fn transcript_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".transcript"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// `load NAME`: a new instance, then load() with facts/NAME.
    Load(String),
    /// `<= TEXT`: load returned ok with exactly TEXT.
    LoadOk(String),
    /// `<! TEXT`: load returned err with exactly TEXT.
    LoadErr(String),
    /// `>> TEXT`: step() with exactly TEXT.
    Step(String),
    /// `<< TEXT`: one line of the step's output.
    Out(String),
    /// `!! trap`: the step traps.
    Trap,
}

/// One item with its 1-based line number in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: usize,
    pub item: Item,
}

/// The text after a two-character marker: one separating space is dropped, nothing else.
fn payload(rest: &str) -> String {
    rest.strip_prefix(' ').unwrap_or(rest).to_string()
}

/// Parse a transcript. Lines are split on `\n` only; everything after `"<< "` etc. is kept
/// byte for byte (a `\r` would be part of the text).
pub fn parse(text: &str) -> Result<Vec<Line>, (usize, String)> {
    let mut lines = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let number = index + 1;
        if raw.is_empty() || raw.starts_with('#') {
            continue;
        }
        let item = if let Some(name) = raw.strip_prefix("load ") {
            Item::Load(name.to_string())
        } else if let Some(rest) = raw.strip_prefix("<=") {
            Item::LoadOk(payload(rest))
        } else if let Some(rest) = raw.strip_prefix("<!") {
            Item::LoadErr(payload(rest))
        } else if let Some(rest) = raw.strip_prefix(">>") {
            Item::Step(payload(rest))
        } else if let Some(rest) = raw.strip_prefix("<<") {
            Item::Out(payload(rest))
        } else if raw == "!! trap" {
            Item::Trap
        } else {
            return Err((number, format!("unrecognised line: {}", excerpt(raw.as_bytes(), 0))));
        };
        lines.push(Line { number, item });
    }
    Ok(lines)
}

/// What a replay went through, for a summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub loads: usize,
    pub steps: usize,
    pub traps: usize,
}

/// The first byte at which `a` and `b` differ (the shorter length if one is a prefix).
pub fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if common == a.len() && common == b.len() {
        None
    } else {
        Some(common)
    }
}

const BEFORE: usize = 60;
const AFTER: usize = 100;

/// A window of `bytes` around `offset`, quoted so whitespace and control bytes show.
fn excerpt(bytes: &[u8], offset: usize) -> String {
    let start = offset.saturating_sub(BEFORE);
    let end = (offset + AFTER).min(bytes.len());
    let start = start.min(end);
    let mut text = format!("{:?}", String::from_utf8_lossy(&bytes[start..end]));
    if start > 0 {
        text = format!("…{text}");
    }
    if end < bytes.len() {
        text.push('…');
    }
    text
}

/// A difference report: where, what was expected, what came, and the first differing byte.
fn mismatch(file: &str, line: usize, what: &str, expected: &str, actual: &str) -> String {
    let offset = first_difference(expected.as_bytes(), actual.as_bytes()).unwrap_or(0);
    format!(
        "{file}:{line}: {what} differs at byte {offset} \
         (expected {} bytes, got {} bytes)\n  expected: {}\n  actual:   {}",
        expected.len(),
        actual.len(),
        excerpt(expected.as_bytes(), offset),
        excerpt(actual.as_bytes(), offset),
    )
}

/// The outcome of the last `load`, to repeat after a trap.
struct Loaded {
    name: String,
    facts: String,
    outcome: Result<String, String>,
}

/// Replay one transcript; `Err` describes the first difference (file:line, expected, actual).
pub fn replay_file(compiled: &CompiledEngine, path: &Path) -> Result<Stats, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| format!("{file}: cannot read: {err}"))?;
    let facts_dir = path.parent().unwrap_or(Path::new(".")).join("facts");
    replay(compiled, &file, &text, &facts_dir)
}

/// Replay transcript `text` (named `file` in messages), reading facts from `facts_dir`.
pub fn replay(compiled: &CompiledEngine, file: &str, text: &str, facts_dir: &Path) -> Result<Stats, String> {
    let lines = parse(text).map_err(|(line, message)| format!("{file}:{line}: {message}"))?;
    if lines.is_empty() {
        return Err(format!("{file}: no items (an empty transcript proves nothing)"));
    }
    let mut stats = Stats::default();
    let mut instance: Option<EngineInstance> = None;
    let mut loaded: Option<Loaded> = None;
    let mut index = 0;
    let next_line_number =
        |index: usize| lines.get(index).map_or_else(|| "end of file".to_string(), |l| l.number.to_string());

    while index < lines.len() {
        let Line { number, item } = &lines[index];
        let number = *number;
        index += 1;
        match item {
            Item::Load(name) => {
                let facts_path = facts_dir.join(name);
                let facts = std::fs::read_to_string(&facts_path)
                    .map_err(|err| format!("{file}:{number}: cannot read facts {}: {err}", facts_path.display()))?;
                let mut fresh = compiled
                    .instantiate()
                    .map_err(|err| format!("{file}:{number}: instantiating the component failed: {err:?}"))?;
                let outcome =
                    fresh.load(&facts).map_err(|err| format!("{file}:{number}: load({name}) trapped: {err:?}"))?;
                stats.loads += 1;
                let Some(Line { number: expect_number, item: expect }) = lines.get(index) else {
                    return Err(format!("{file}:{number}: `load` must be followed by `<=` or `<!`, got end of file"));
                };
                index += 1;
                let expected: Result<&str, &str> = match expect {
                    Item::LoadOk(text) => Ok(text),
                    Item::LoadErr(text) => Err(text),
                    other => {
                        return Err(format!(
                            "{file}:{expect_number}: `load` must be followed by `<=` or `<!`, got {other:?}"
                        ))
                    }
                };
                match (&expected, &outcome) {
                    (Ok(want), Ok(got)) | (Err(want), Err(got)) => {
                        if want.as_bytes() != got.as_bytes() {
                            let what = if expected.is_ok() { "load ok text" } else { "load err text" };
                            return Err(mismatch(file, *expect_number, what, want, got));
                        }
                    }
                    (Ok(want), Err(got)) => {
                        return Err(format!(
                            "{file}:{expect_number}: load was expected to succeed (`<= {want}`) \
                             but returned err: {got:?}"
                        ))
                    }
                    (Err(want), Ok(got)) => {
                        return Err(format!(
                            "{file}:{expect_number}: load was expected to fail (`<! {want}`) \
                             but returned ok: {got:?}"
                        ))
                    }
                }
                instance = Some(fresh);
                loaded = Some(Loaded { name: name.clone(), facts, outcome });
            }
            Item::Step(input) => {
                let engine = instance.as_mut().ok_or_else(|| format!("{file}:{number}: `>>` before any `load`"))?;
                let result = engine.step(input);
                stats.steps += 1;
                // Gather what the transcript expects: `<<` lines, or one `!! trap`.
                let mut expected_out: Vec<(usize, &str)> = Vec::new();
                while let Some(Line { number, item: Item::Out(text) }) = lines.get(index) {
                    expected_out.push((*number, text));
                    index += 1;
                }
                let expects_trap =
                    expected_out.is_empty() && matches!(lines.get(index), Some(Line { item: Item::Trap, .. }));
                if expects_trap {
                    let trap_line = lines[index].number;
                    index += 1;
                    match result {
                        Ok(output) => {
                            return Err(format!(
                                "{file}:{trap_line}: the step at line {number} was expected to trap, \
                                 but returned: {}",
                                excerpt(output.as_bytes(), 0)
                            ))
                        }
                        Err(err) if trap_of(&err).is_none() => {
                            return Err(format!(
                                "{file}:{trap_line}: the step at line {number} failed, but not with a \
                                 guest trap: {err:?}"
                            ))
                        }
                        Err(_) => {}
                    }
                    stats.traps += 1;
                    // The trapped instance is gone: a fresh one with the last facts.
                    let last = loaded.as_ref().expect("a step ran, so something was loaded");
                    let mut fresh = compiled.instantiate().map_err(|err| {
                        format!("{file}:{trap_line}: re-instantiating after the trap failed: {err:?}")
                    })?;
                    let again = fresh.load(&last.facts).map_err(|err| {
                        format!("{file}:{trap_line}: re-loading {} after the trap trapped: {err:?}", last.name)
                    })?;
                    if again != last.outcome {
                        return Err(format!(
                            "{file}:{trap_line}: re-loading {} after the trap gave {again:?}, \
                             the first load gave {:?}",
                            last.name, last.outcome
                        ));
                    }
                    instance = Some(fresh);
                    continue;
                }
                if expected_out.is_empty() {
                    return Err(format!(
                        "{file}:{}: the `>>` at line {number} must be followed by `<<` lines or `!! trap`",
                        next_line_number(index)
                    ));
                }
                let output = match result {
                    Ok(output) => output,
                    Err(err) => {
                        return Err(format!(
                            "{file}:{number}: the step trapped ({}), expected output starting at line {}: {}",
                            trap_of(&err).map_or_else(|| "not a guest trap".to_string(), |t| t.to_string()),
                            expected_out[0].0,
                            format!("{err:?}").lines().next().unwrap_or("")
                        ))
                    }
                };
                let actual: Vec<&str> = output.split('\n').collect();
                for (position, (want_number, want)) in expected_out.iter().enumerate() {
                    match actual.get(position) {
                        Some(got) if got.as_bytes() == want.as_bytes() => {}
                        Some(got) => {
                            let what = format!("output line {} of the step at line {number}", position + 1);
                            return Err(mismatch(file, *want_number, &what, want, got));
                        }
                        None => {
                            return Err(format!(
                                "{file}:{want_number}: the step at line {number} returned {} line(s), \
                                 the transcript expects {}; missing: {}",
                                actual.len(),
                                expected_out.len(),
                                excerpt(want.as_bytes(), 0)
                            ))
                        }
                    }
                }
                if actual.len() > expected_out.len() {
                    let extra = actual[expected_out.len()];
                    return Err(format!(
                        "{file}:{}: the step at line {number} returned {} line(s), the transcript \
                         expects {}; unexpected line {}: {}",
                        next_line_number(index),
                        actual.len(),
                        expected_out.len(),
                        expected_out.len() + 1,
                        excerpt(extra.as_bytes(), 0)
                    ));
                }
            }
            Item::LoadOk(_) | Item::LoadErr(_) => {
                return Err(format!("{file}:{number}: `<=` / `<!` without a `load` just before"));
            }
            Item::Out(_) => {
                return Err(format!("{file}:{number}: `<<` without a `>>` before"));
            }
            Item::Trap => {
                return Err(format!("{file}:{number}: `!! trap` without a `>>` just before"));
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_markers_keeping_payload_bytes() {
        let lines = parse("# c\n\nload f.json\n<= []\n>> {\"a\": 1} \n<< x\n<<\n!! trap\n").unwrap();
        let items: Vec<Item> = lines.into_iter().map(|l| l.item).collect();
        assert_eq!(
            items,
            vec![
                Item::Load("f.json".into()),
                Item::LoadOk("[]".into()),
                Item::Step("{\"a\": 1} ".into()),
                Item::Out("x".into()),
                Item::Out("".into()),
                Item::Trap,
            ]
        );
    }

    #[test]
    fn rejects_unknown_lines() {
        assert_eq!(parse("load a\nwhat\n").unwrap_err().0, 2);
        assert!(parse("!! boom\n").is_err());
    }

    #[test]
    fn first_difference_offsets() {
        assert_eq!(first_difference(b"abc", b"abc"), None);
        assert_eq!(first_difference(b"abc", b"abd"), Some(2));
        assert_eq!(first_difference(b"ab", b"abc"), Some(2));
        assert_eq!(first_difference(b"", b"x"), Some(0));
    }
}
