//! The discovery index: every tool as a bag of words (its name, title, description, model's
//! names and app label, field names and help texts), ranked against a request in everyday
//! words with BM25. Built at load when discovery is on; `find_tools` reads it.

use std::collections::HashMap;

use serde_json::Value;

use super::{Catalogue, Operation, Tool};

/// BM25's usual constants: term-frequency saturation and length normalisation.
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// How many times a word counts where it names the tool (name, title, model) rather than
/// describing it (description, fields).
const NAMING_WEIGHT: u16 = 3;
/// The longest one-line description `find_tools` answers with.
const SUMMARY_CHARS: usize = 160;

/// What `find_tools` tells about a tool besides its name and title.
pub struct Found {
    pub summary: String,
    pub verb: &'static str,
    pub model: Option<String>,
    pub app: Option<String>,
}

#[derive(Default)]
pub struct Finder {
    /// Per tool (catalogue order).
    pub found: Vec<Found>,
    lengths: Vec<u32>,
    average_length: f32,
    terms: HashMap<String, usize>,
    /// Per term: the tools it occurs in, with its weighted count there.
    postings: Vec<Vec<(u32, u16)>>,
}

/// Words that carry nothing about which tool is meant.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "to", "of", "for", "in", "on", "at", "this", "that", "these", "those", "my", "i", "we", "our", "with",
    "by", "from", "is", "are", "be", "and", "or", "please", "want", "can", "you", "it", "its", "some", "any", "which", "what",
    "how", "there", "into", "as", "do", "does", "one", "each", "about", "their", "his", "her", "called", "named", "now", "still",
];

/// Everyday verbs and the tool verbs they ask for, first the likeliest.
const VERB_WORDS: &[(&str, &[&str])] = &[
    ("add", &["create"]),
    ("new", &["create"]),
    ("create", &["create"]),
    ("register", &["create"]),
    ("save", &["create"]),
    ("make", &["update", "create"]),
    ("edit", &["update"]),
    ("change", &["update"]),
    ("update", &["update"]),
    ("modify", &["update"]),
    ("rename", &["update"]),
    ("give", &["update"]),
    ("deactivate", &["update"]),
    ("fix", &["update"]),
    ("remove", &["delete"]),
    ("delete", &["delete"]),
    ("drop", &["delete"]),
    ("erase", &["delete"]),
    ("find", &["search", "list"]),
    ("search", &["search", "list"]),
    ("look", &["search", "list"]),
    ("list", &["list"]),
    ("browse", &["list"]),
    ("show", &["get", "list"]),
    ("see", &["get", "list"]),
    ("get", &["get"]),
    ("open", &["get"]),
    ("read", &["get"]),
    ("detail", &["get"]),
    ("details", &["get"]),
    ("view", &["get", "list"]),
    ("fetch", &["get"]),
];

/// Everyday words and the words tools are described with.
const SYNONYMS: &[(&str, &str)] = &[
    ("several", "selected"),
    ("multiple", "selected"),
    ("bulk", "selected"),
    ("statistics", "stat"),
    ("deactivate", "activ"),
    ("am", "me"),
];

/// A verb in the query weighs more than a noun: what is done to a model tells its tools
/// apart, the model's words are shared by all of them.
const VERB_WEIGHT: f32 = 1.5;

/// The words of `text`: lower-case runs of letters and digits, camelCase split, lightly
/// stemmed so `books`, `book`, `published` and `publish` meet.
pub fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && previous_lower && !word.is_empty() {
                words.push(stem(&std::mem::take(&mut word)));
            }
            previous_lower = c.is_lowercase();
            word.extend(c.to_lowercase());
        } else {
            previous_lower = false;
            if !word.is_empty() {
                words.push(stem(&std::mem::take(&mut word)));
            }
        }
    }
    if !word.is_empty() {
        words.push(stem(&word));
    }
    words
}

fn stem(word: &str) -> String {
    let n = word.len();
    let cut = |suffix: &str, keep: usize| n > suffix.len() + keep && word.ends_with(suffix);
    if cut("ation", 2) {
        return word[..n - 3].to_string();
    }
    if cut("ies", 1) {
        return format!("{}y", &word[..n - 3]);
    }
    for suffix in ["sses", "ches", "shes", "xes"] {
        if cut(suffix, 1) {
            return word[..n - 2].to_string();
        }
    }
    if cut("ing", 2) {
        return word[..n - 3].to_string();
    }
    if cut("ed", 2) {
        return word[..n - 2].trim_end_matches('e').to_string();
    }
    if cut("s", 2) && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..n - 1].to_string();
    }
    if n > 3 {
        return word.trim_end_matches('e').to_string();
    }
    word.to_string()
}

/// The term a tool's verb is indexed under (kept apart from the words it is described with).
fn verb_term(verb: &str) -> String {
    format!("verb:{verb}")
}

/// What a tool does, in the words `find_tools` narrows by.
fn verb_of(tool: &Tool) -> &'static str {
    match &tool.spec.operation {
        Operation::AdminList { .. } => "list",
        Operation::AdminRetrieve { .. } => "get",
        Operation::AdminCreate { .. } => "create",
        Operation::AdminUpdate { .. } => "update",
        Operation::AdminDelete { .. } => "delete",
        Operation::AdminAction { .. } => "action",
        Operation::Search { .. } => "search",
        Operation::DrfCall { handler, .. } => match handler.as_str() {
            "list" => "list",
            "retrieve" => "get",
            "create" => "create",
            "update" | "partial_update" => "update",
            "destroy" => "delete",
            _ => "action",
        },
        Operation::ViewCall { .. } => "call",
        Operation::Custom { .. } => "custom",
    }
}

/// The tool's description, read out of its descriptor (the only place it is kept).
fn description_of(tool: &Tool) -> String {
    let Some(at) = tool.descriptor.find("\"description\":") else { return String::new() };
    let rest = &tool.descriptor[at + "\"description\":".len()..];
    serde_json::Deserializer::from_str(rest).into_iter::<String>().next().and_then(Result::ok).unwrap_or_default()
}

/// The property names and descriptions of a schema, one level into objects (a view's
/// `body`, a DRF `query`).
fn schema_words(schema: &Value, into: &mut String) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
    for (name, property) in properties {
        into.push(' ');
        into.push_str(name);
        for key in ["title", "description"] {
            if let Some(text) = property.get(key).and_then(Value::as_str) {
                into.push(' ');
                into.push_str(text);
            }
        }
        if let Some(nested) = property.get("properties") {
            schema_words(&Value::Object([("properties".to_string(), nested.clone())].into_iter().collect()), into);
        }
    }
}

/// The first sentence or line of a description, at most `SUMMARY_CHARS` characters.
fn summary(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default();
    let sentence = line.find(". ").map_or(line, |end| &line[..=end]);
    match sentence.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", &sentence[..cut]),
        None => sentence.to_string(),
    }
}

impl Finder {
    pub fn build(cat: &Catalogue) -> Finder {
        let mut finder = Finder::default();
        // An admin's model words are the same for each of its tools: worded once per model.
        let mut model_words: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        for (i, tool) in cat.tools.iter().enumerate() {
            let description = description_of(tool);
            let model = match &tool.spec.operation {
                Operation::Search { model, .. } => cat.model_index.get(model).map(|&m| &cat.models[m]),
                operation => operation.admin().map(|admin| cat.admin_model(admin)),
            };
            let mut counts: HashMap<String, u16> = HashMap::new();
            let mut add = |words: &[String], weight: u16| {
                for word in words.iter().filter(|w| !STOP_WORDS.contains(&w.as_str())) {
                    *counts.entry(word.clone()).or_default() += weight;
                }
            };
            add(&words(&tool.spec.name), NAMING_WEIGHT);
            add(&words(&tool.spec.title), NAMING_WEIGHT);
            add(&words(&description), 1);
            let verb = verb_of(tool);
            add(&[verb_term(verb)], NAMING_WEIGHT);
            if let Some(model) = model {
                let (naming, fields) = model_words.entry(model.label.clone()).or_insert_with(|| {
                    let naming = words(&format!("{} {} {} {}", model.app_label, model.object_name, model.verbose_name, model.verbose_name_plural));
                    let mut text = String::new();
                    for field in &model.fields {
                        for part in [&field.name, &field.verbose_name, &field.help_text] {
                            text.push(' ');
                            text.push_str(part);
                        }
                    }
                    (naming, words(&text))
                });
                add(naming, NAMING_WEIGHT);
                add(fields, 1);
            } else if let Ok(schema) = serde_json::from_str::<Value>(tool.input_schema()) {
                let mut text = String::new();
                schema_words(&schema, &mut text);
                add(&words(&text), 1);
            }
            finder.lengths.push(counts.values().map(|&c| u32::from(c)).sum());
            let mut counts: Vec<(String, u16)> = counts.into_iter().collect();
            counts.sort_unstable();
            for (term, count) in counts {
                let next = finder.terms.len();
                let at = *finder.terms.entry(term).or_insert(next);
                if at == finder.postings.len() {
                    finder.postings.push(Vec::new());
                }
                finder.postings[at].push((i as u32, count));
            }
            finder.found.push(Found {
                summary: summary(&description),
                verb,
                model: model.map(|m| m.label.clone()),
                app: model.map(|m| m.app_label.clone()),
            });
        }
        let total: u64 = finder.lengths.iter().map(|&l| u64::from(l)).sum();
        finder.average_length = total as f32 / finder.lengths.len().max(1) as f32;
        finder
    }

    /// The query's terms with their weights: its words, and the tool verbs its everyday
    /// verbs ask for.
    fn query_terms(query: &str) -> Vec<(String, f32)> {
        let mut terms: Vec<(String, f32)> = Vec::new();
        let mut add = |term: String, weight: f32| match terms.iter_mut().find(|(t, _)| *t == term) {
            Some((_, w)) => *w = w.max(weight),
            None => terms.push((term, weight)),
        };
        let lower: Vec<String> = query.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect();
        // "add a tag to this book": adding something *to* an object changes that object.
        let adds_to = lower.iter().position(|w| w == "add").is_some_and(|at| lower[at..].iter().any(|w| w == "to"));
        // "all books": the whole list.
        if lower.iter().any(|w| w == "all") {
            add(verb_term("list"), 2.0 * VERB_WEIGHT);
        }
        for word in &lower {
            if let Some((_, synonym)) = SYNONYMS.iter().find(|(everyday, _)| everyday == word) {
                add(stem(synonym), 1.0);
            }
            if word.len() == 4 && (word.starts_with("19") || word.starts_with("20")) && word.chars().all(|c| c.is_ascii_digit()) {
                add("year".to_string(), 1.0);
            }
            // A verb asks for what tools do, not for the word: `edit` means update tools,
            // not a view whose route says edit.
            if let Some((_, verbs)) = VERB_WORDS.iter().find(|(everyday, _)| everyday == word) {
                let verbs: &[&str] = if adds_to && word == "add" { &["update", "create"] } else { verbs };
                for (rank, verb) in verbs.iter().enumerate() {
                    add(verb_term(verb), if rank == 0 { VERB_WEIGHT } else { VERB_WEIGHT / 3.0 });
                }
                continue;
            }
            for stemmed in words(word) {
                if !STOP_WORDS.contains(&stemmed.as_str()) {
                    add(stemmed, 1.0);
                }
            }
        }
        terms
    }

    /// The tools `query` matches, best first (ties in catalogue order), among those `keep`
    /// lets through; with `unmatched`, the rest of those follow in catalogue order (a
    /// narrowed search lists the whole of what it narrowed to).
    pub fn rank(&self, query: &str, unmatched: bool, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let count = self.lengths.len() as f32;
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for (term, weight) in Self::query_terms(query) {
            let Some(&at) = self.terms.get(&term) else { continue };
            let posting = &self.postings[at];
            let df = posting.len() as f32;
            let idf = ((count - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(tool, tf) in posting {
                let tf = f32::from(tf);
                let norm = K1 * (1.0 - B + B * self.lengths[tool as usize] as f32 / self.average_length);
                *scores.entry(tool).or_default() += weight * idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().map(|(t, s)| (t as usize, s)).filter(|&(t, _)| keep(t)).collect();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut ranked: Vec<usize> = ranked.into_iter().map(|(t, _)| t).collect();
        if unmatched {
            let matched: std::collections::HashSet<usize> = ranked.iter().copied().collect();
            ranked.extend((0..self.lengths.len()).filter(|t| !matched.contains(t) && keep(*t)));
        }
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library() -> Catalogue {
        let mut facts: crate::facts::Facts = serde_json::from_str(include_str!("../../../tests/transcripts/facts/library.json")).unwrap();
        facts.settings.discovery = crate::facts::Discovery::Auto;
        Catalogue::derive(facts).unwrap().0
    }

    #[test]
    fn words_are_lower_case_split_and_lightly_stemmed() {
        assert_eq!(words("list_library_book"), ["list", "library", "book"]);
        assert_eq!(words("BookViewSet books published categories"), ["book", "view", "set", "book", "publish", "category"]);
        assert_eq!(words("boxes status"), ["box", "status"]);
    }

    #[test]
    fn everyday_verbs_ask_for_tool_verbs() {
        let terms = Finder::query_terms("Add a new book");
        assert!(terms.contains(&("verb:create".to_string(), VERB_WEIGHT)), "{terms:?}");
        assert!(terms.contains(&("book".to_string(), 1.0)) && !terms.iter().any(|(t, _)| t == "a"), "{terms:?}");
    }

    #[test]
    fn ranking_finds_the_tool_a_person_means() {
        let cat = library();
        let finder = cat.finder.as_ref().expect("built when discovery is on");
        let top = |query: &str| cat.tools[finder.rank(query, false, |_| true)[0]].spec.name.clone();
        assert!(["create_library_book", "create_api_book"].contains(&top("add a new book").as_str()));
        assert_eq!(top("remove an author"), "delete_library_author");
        assert_eq!(top("edit an author"), "update_library_author");
        let only_authors = finder.rank("book", false, |t| finder.found[t].model.as_deref() == Some("library.Author"));
        assert!(only_authors.iter().all(|&t| finder.found[t].model.as_deref() == Some("library.Author")));
        assert_eq!(finder.rank("add a new book", false, |_| true), finder.rank("add a new book", false, |_| true), "deterministic");
        assert!(finder.rank("zzzz qqqq", false, |_| true).is_empty());
    }

    #[test]
    fn summaries_are_one_short_sentence() {
        assert_eq!(summary("List books. Filters: status."), "List books.");
        assert_eq!(summary("One line\nsecond"), "One line");
        assert_eq!(summary(&"x".repeat(200)).chars().count(), SUMMARY_CHARS + 1);
    }
}
